// myTrades returns at most one page (`limit` rows from startTime): an order whose trades lie beyond
// the first page (a busy account on that symbol) must still get every fill, each at its own price.
// Over real HTTP against the simulator: 1,003 trades on one order need two pages of 1,000.
import Decimal from 'decimal.js';
import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
import { DzengiAdapter } from '../../../src/venues/dzengi/dzengi-adapter';
import { startDzengiSimulator } from '../../../src/venues/dzengi/dzengi-simulator';
import { RunningSimulator } from '../../../src/venues/sim/simulator';

const KEY = 'dz-key';
const SECRET = 'dz-secret';
const qtys = (fills: { qty: string }[] | undefined) => (fills ?? []).map((f) => new Decimal(f.qty).toString());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Dzengi fills beyond the first myTrades page', () => {
  let sim: RunningSimulator;
  let adapter: DzengiAdapter;

  beforeAll(async () => {
    sim = await startDzengiSimulator({ credentials: [{ apiKey: KEY, apiSecret: SECRET }], rateLimits: { ordersPerSecond: 1000, queriesPerSecond: 1000 } });
    adapter = new DzengiAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: SECRET, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 }) },
    );
    await adapter.start();
  });
  afterAll(async () => {
    await adapter.stop();
    await sim.close();
  });

  it('getOrder and recentOrders read every page: every trade at its own price (the order filled, off the open list)', async () => {
    const since = Date.now() - 1000;
    // 1,000 small trades, then three at their own prices beyond the first page.
    const sell = await adapter.placeOrder({ symbol: 'BTC/USD', side: 'sell', type: 'limit', quantity: '2.75', price: '61000', timeInForce: 'GTC' });
    for (let i = 0; i < 1000; i++) {
      sim.engine.trade('BTC/USD', 'buy', '0.001', '61000');
      if (i % 100 === 99) await sleep(3); // spread over many ms, as a real account's trades are
    }
    await sleep(3);
    for (const qty of ['1', '0.5', '0.25']) {
      sim.engine.trade('BTC/USD', 'buy', qty, '61000');
      await sleep(3);
    }
    const o = await adapter.getOrder({ venueOrderId: sell.venueOrderId, symbol: 'BTC/USD' });
    expect(new Decimal(o.filledQty).toString()).toBe('2.75');
    expect(o.fills).toHaveLength(1003);
    expect(qtys(o.fills).slice(-3)).toEqual(['1', '0.5', '0.25']);
    const recent = (await adapter.recentOrders('BTC/USD', since)).find((r) => r.venueOrderId === sell.venueOrderId)!;
    expect(recent.fills).toHaveLength(1003);
  });
});
