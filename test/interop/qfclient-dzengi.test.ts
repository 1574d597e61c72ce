// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against a gateway session
// trading on the in-process Dzengi simulator (no client order id, polled order updates, symbols
// with a slash): every ExecutionReport and OrderCancelReject must pass its validation (0 errors),
// every scenario step must pass, and fixinvariants.py must hold over everything it received.
import { QfclientOnVenue, expectCleanScenario } from '../support/qfclient-venue';

jest.setTimeout(240_000);

let q: QfclientOnVenue;
beforeAll(async () => {
  q = await QfclientOnVenue.start('dzengi');
  // 1 BTC per price level: the scenario's crossing order of 2.5 takes three levels.
  await q.sim.request('POST', '/__sim/config', { liquidity: { 'BTC/USD': { levelQty: '1' } } });
});
afterAll(async () => {
  await q?.stop();
});

test('scenario dzengi-basic: rest, status, cancel, too-late cancels, fills at three prices, IOC/FOK expiry (150=C), market, rejects — all steps pass, 0 validation errors', async () => {
  expectCleanScenario(await q.scenario('dzengi-basic.json', ['--run-id', 'DZ1'], 90_000));
  // The venue's view: the orders the scenario placed (local rejects and the duplicate never reach it).
  const { orders } = await q.sim.request<{ orders: Array<{ symbol: string; status: string; cumQty: string; type: string; timeInForce: string }> }>('GET', '/__sim/orders');
  expect(orders.map((o) => [o.symbol, o.type, o.timeInForce, o.status, o.cumQty])).toEqual([
    ['BTC/USD', 'limit', 'GTC', 'canceled', '0'],
    ['BTC/USD', 'limit', 'GTC', 'filled', '2.5'],
    ['BTC/USD', 'market', 'FOK', 'filled', '0.002'],
    ['BTC/USD', 'limit', 'IOC', 'expired', '1'],
    ['BTC/USD', 'limit', 'FOK', 'rejected', '0'],
  ]);
});
