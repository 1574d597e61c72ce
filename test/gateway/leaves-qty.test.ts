// leavesQty's shortcut for an unfilled order (orderQty returned as is) must give exactly what the
// Decimal subtraction gives, for every spelling of a quantity the book may hold.
import { Dec, formatDecimal, leavesQty } from '../../src/gateway/order';

const bySubtraction = (orderQty: string, cumQty: string) => {
  const d = new Dec(orderQty).minus(cumQty);
  return formatDecimal(d.isNegative() ? new Dec(0) : d);
};

test.each(['0.01', '1', '10', '0', '0.00000001', '123456789012345678901234567890.5', '0.010', '00.5', '1.', '.5', '1e3', '1.50', '-1'])(
  'unfilled order of %s: the same leaves as by subtraction',
  (orderQty) => {
    expect(leavesQty({ status: '0', orderQty, cumQty: '0' })).toBe(bySubtraction(orderQty, '0'));
  },
);

test('partially filled and terminal orders', () => {
  expect(leavesQty({ status: '1', orderQty: '0.03', cumQty: '0.01' })).toBe('0.02');
  expect(leavesQty({ status: '2', orderQty: '0.03', cumQty: '0.03' })).toBe('0');
  expect(leavesQty({ status: '4', orderQty: '0.03', cumQty: '0' })).toBe('0');
});
