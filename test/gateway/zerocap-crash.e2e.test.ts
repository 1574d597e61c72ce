// End to end on Zerocap across a crash: the gateway process is SIGKILLed with open orders and
// restarted on the same store, while the Zerocap simulator keeps running as its own child. Zerocap
// orders are fill-or-kill; the simulator is told through /__sim/config to keep these ones open, so
// they can trade while the gateway is down. The stream pushes nothing to a gateway that is not
// there, so after the restart the gateway learns what happened by reconciling (fetch_order by the
// venue id in its durable book, or fetch_orders by client_order_id for a create that never got a
// reply). Every venue trade must be reported exactly once, across both gateway lives.
import { NosFields, SimOrderView, cancelFields, expectFixInvariants, nosFields, waitForMessage, waitUntil } from '../support/gateway-e2e';
import {
  fieldsOf as f,
  fillReports,
  liveReports,
  requestStatus as status,
  sleep,
  useVenueCrashSuite,
  waitForAcks,
} from '../support/venue-crash-suite';

jest.setTimeout(60_000);

const suite = useVenueCrashSuite({
  venue: 'zerocap',
  streams: 1,
  resetSim: (control) => control.configure({ restNextOrders: 0 }),
});
const { startGateway, connectClient, crash, restart } = suite;

/** The venue's order (our account's) at a price of our own choosing. */
async function venueOrderAt(symbol: string, price: string): Promise<SimOrderView> {
  const list = (await suite.control.orders({ symbol })).filter((o) => o.price === price);
  if (list.length !== 1) throw new Error(`venue has ${list.length} ${symbol} orders at ${price}`);
  return list[0];
}

describe('Zerocap: gateway SIGKILLed and restarted while the venue (simulator child) keeps trading', () => {
  test('fills of open orders made while the gateway is down and after its restart are reported once each, CumQty/AvgPx exact, ExecIDs unique; cancel still refused 102=2 after the restart', async () => {
    const sim = suite.control;
    const ORDERS: Record<string, NosFields> = {
      // One symbol per order, so an external trade can only reach the order it is meant for.
      'ZK-A': { symbol: 'BTC/USD', side: '1', qty: '0.5', price: '59000', tif: '4' },
      'ZK-B': { symbol: 'ETH/USD', side: '1', qty: '2', price: '2900.5', tif: '4' },
      'ZK-C': { symbol: 'USDT/AUD', side: '2', qty: '10', price: '1.6', tif: '4' },
    };
    const ref = (cl: string) => ({ symbol: ORDERS[cl].symbol!, side: ORDERS[cl].side! });

    let gw = await startGateway();
    const { client, rec } = await connectClient(gw.port);
    await sim.configure({ restNextOrders: 3 });
    for (const [cl, o] of Object.entries(ORDERS)) client.send('D', nosFields(cl, o));
    const acks = await waitForAcks(client, Object.keys(ORDERS));
    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.1', price: '59000' });
    await waitUntil(client, () => fillReports(client, 'ZK-A').length === 1, 8000, 'first fill of ZK-A');

    await crash(gw, client);

    expect(await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.15', price: '59000' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'ETH/USD', side: 'sell', qty: '2', price: '2900.5' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'USDT/AUD', side: 'buy', qty: '4', price: '1.6' })).toHaveLength(1);

    gw = await restart(gw, client);
    await waitUntil(
      client,
      () => fillReports(client, 'ZK-A').length === 2 && fillReports(client, 'ZK-B').length === 1 && fillReports(client, 'ZK-C').length === 1,
      10_000,
      'fills made while the gateway was down',
    );
    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.25', price: '59000' });
    await waitUntil(client, () => fillReports(client, 'ZK-A').length === 3, 8000, 'last fill of ZK-A (stream)');
    const rxBeforeCancel = client.received.length;
    client.send('F', cancelFields('ZK-C-X', 'ZK-C', ref('ZK-C')));
    const refused = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'ZK-C-X', { from: rxBeforeCancel, what: 'cancel reject of ZK-C' });
    expect(f(refused, 41, 434, 102, 39, 37)).toEqual({ 41: 'ZK-C', 434: '1', 102: '2', 39: '1', 37: acks['ZK-C'].get(37) });
    await sleep(1000);

    expect(fillReports(client, 'ZK-A').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '0.1', 31: '59000', 14: '0.1', 151: '0.4', 6: '59000' },
      { 150: '1', 39: '1', 32: '0.15', 31: '59000', 14: '0.25', 151: '0.25', 6: '59000' },
      { 150: '2', 39: '2', 32: '0.25', 31: '59000', 14: '0.5', 151: '0', 6: '59000' },
    ]);
    expect(fillReports(client, 'ZK-B').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '2', 39: '2', 32: '2', 31: '2900.5', 14: '2', 151: '0', 6: '2900.5' },
    ]);
    expect(fillReports(client, 'ZK-C').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '4', 31: '1.6', 14: '4', 151: '6', 6: '1.6' },
    ]);
    expect(liveReports(client, 'ZK-C').map((m) => m.get(150))).toEqual(['0', '1']);

    // Every live ER is a distinct report (a repeated ExecID only as a PossDup copy).
    const all = client.received.filter((m) => m.msgType === '8' && m.get(20) === '0');
    const reports = Object.keys(ORDERS).flatMap((cl) => liveReports(client, cl));
    expect(new Set(all.map((m) => m.get(17))).size).toBe(reports.length);

    expect(f(await status(client, 'ZK-A', ref('ZK-A')), 20, 17, 39, 150, 14, 151, 6)).toEqual({ 20: '3', 17: '0', 39: '2', 150: '2', 14: '0.5', 151: '0', 6: '59000' });
    expect(f(await status(client, 'ZK-B', ref('ZK-B')), 39, 150, 14, 151)).toEqual({ 39: '2', 150: '2', 14: '2', 151: '0' });
    expect(f(await status(client, 'ZK-C', ref('ZK-C')), 39, 150, 14, 151)).toEqual({ 39: '1', 150: '1', 14: '4', 151: '6' });
    // The venue: the three orders in the states reported; ZK-C untouched by the refused cancel.
    expect(await venueOrderAt('BTC/USD', '59000')).toMatchObject({ status: 'filled', cumQty: '0.5' });
    expect(await venueOrderAt('ETH/USD', '2900.5')).toMatchObject({ status: 'filled', cumQty: '2' });
    expect(await venueOrderAt('USDT/AUD', '1.6')).toMatchObject({ status: 'partially_filled', cumQty: '4', resting: true });
    expectFixInvariants(rec);
  });

  test('SIGKILL while the create request is in flight (the venue keeps the order open, the gateway has no reply): after the restart it is found through the venue, acked once, and its fills reported once', async () => {
    const sim = suite.control;
    let gw = await startGateway();
    const { client, rec } = await connectClient(gw.port);
    await sim.configure({ restNextOrders: 1 });
    await sim.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 30_000 });
    const price = '58000.75';
    client.send('D', nosFields('ZK-U', { symbol: 'BTC/USD', qty: '0.3', price, tif: '4' }));
    await suite.waitForVenueOrder((x) => x.price === price, { symbol: 'BTC/USD' });
    await sleep(100);
    await crash(gw, client);
    expect(client.received.filter((m) => m.msgType === '8' && m.get(11) === 'ZK-U' && m.get(150) !== 'A')).toEqual([]);

    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.1', price });

    gw = await restart(gw, client);
    await waitUntil(client, () => fillReports(client, 'ZK-U').length === 1, 15_000, 'fill of ZK-U after the restart');
    await sleep(300);
    const reports = liveReports(client, 'ZK-U');
    expect(reports.map((m) => m.get(150)).filter((t) => t !== 'A')).toEqual(['0', '1']);
    expect(f(reports[reports.length - 1], 150, 39, 32, 31, 14, 151, 6)).toEqual({ 150: '1', 39: '1', 32: '0.1', 31: price, 14: '0.1', 151: '0.2', 6: price });
    expect((await sim.orders({ symbol: 'BTC/USD' })).filter((x) => x.price === price)).toHaveLength(1);

    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.2', price });
    await waitUntil(client, () => fillReports(client, 'ZK-U').length === 2, 8000, 'last fill of ZK-U (stream)');
    await sleep(1000);
    expect(fillReports(client, 'ZK-U')).toHaveLength(2);
    expect(f(await status(client, 'ZK-U', { symbol: 'BTC/USD', side: '1' }), 39, 150, 14, 151, 6)).toEqual({ 39: '2', 150: '2', 14: '0.3', 151: '0', 6: price });
    expect((await venueOrderAt('BTC/USD', price)).status).toBe('filled');
    expectFixInvariants(rec);
  });
});
