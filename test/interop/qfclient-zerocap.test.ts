// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against a gateway session
// trading on the in-process Zerocap simulator: fill-or-kill orders, a symbol with a slash, a
// refused cancel (Zerocap has none), a killed FOK. Every ExecutionReport and OrderCancelReject must
// pass its validation (0 errors), every scenario step must pass, and the ER invariants of
// shared/qfclient/fixinvariants.py must hold over everything it received.
import { QfclientOnVenue, expectCleanScenario } from '../support/qfclient-venue';

jest.setTimeout(240_000);

let q: QfclientOnVenue;
beforeAll(async () => {
  q = await QfclientOnVenue.start('zerocap');
});
afterAll(async () => {
  await q?.stop();
});

test('scenario zerocap-basic: rest, status, refused cancel, FOK fills over three levels, killed FOK, rejects — all steps pass, 0 validation errors', async () => {
  // The first order of the scenario is the one the venue keeps open.
  await q.sim.configure({ restNextOrders: 1 });
  expectCleanScenario(await q.scenario('zerocap-basic.json'));
  // The venue's view: the open order, two filled FOKs and the killed one; nothing for the rejects.
  // (the engine's word for the killed FOK is rejected; Zerocap's wire says closed, filled 0)
  const orders = await q.sim.orders({ symbol: 'BTC/USD' });
  expect(orders.map((o) => [o.qty, o.price, o.status, o.cumQty])).toEqual([
    ['0.01', '50000', 'new', '0'],
    ['0.002', '61000', 'filled', '0.002'],
    ['2.5', '60000.03', 'filled', '2.5'],
    ['0.2', '59000.5', 'rejected', '0'],
  ]);
});
