// End to end on Dzengi across a crash: the gateway process is SIGKILLed with open orders and
// restarted on the same store, while the Dzengi simulator keeps running as its own child. Dzengi
// has no client order id and pushes nothing about our orders, so after the restart the gateway
// knows its orders only by the venue ids in its durable book (or, for a create that never got a
// reply, by content) and learns what happened through the poller. Every venue trade must be
// reported exactly once, across both gateway lives.
import { NosFields, cancelFields, expectFixInvariants, nosFields, waitForMessage, waitUntil } from '../support/gateway-e2e';
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

const suite = useVenueCrashSuite({ venue: 'dzengi' });
const { startGateway, connectClient, crash, restart } = suite;

function uuidOf(engineId: string): string {
  if (!/^\d+$/.test(engineId)) return engineId;
  const hex = BigInt(engineId).toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe('Dzengi: gateway SIGKILLed and restarted while the venue (simulator child) keeps trading', () => {
  test('fills made while the gateway is down and after its restart are reported once each (polled), CumQty correct, ExecIDs unique; status and cancel work after the restart', async () => {
    const sim = suite.control;
    const ORDERS: Record<string, NosFields> = {
      // One symbol per order, so an external trade can only reach the order it is meant for.
      'DK-A': { symbol: 'BTC/USD', side: '1', qty: '0.5', price: '59000' },
      'DK-B': { symbol: 'ETH/USD', side: '1', qty: '2', price: '2900.5' },
      'DK-C': { symbol: 'LTC/BTC', side: '2', qty: '10', price: '0.0013' },
    };
    const ref = (cl: string) => ({ symbol: ORDERS[cl].symbol!, side: ORDERS[cl].side! });

    let gw = await startGateway();
    const { client, rec } = await connectClient(gw.port);
    for (const [cl, o] of Object.entries(ORDERS)) client.send('D', nosFields(cl, o));
    const acks = await waitForAcks(client, Object.keys(ORDERS));
    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.1', price: '59000' });
    await waitUntil(client, () => fillReports(client, 'DK-A').length === 1, 8000, 'first fill of DK-A (polled)');

    await crash(gw, client);

    expect(await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.15', price: '59000' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'ETH/USD', side: 'sell', qty: '2', price: '2900.5' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'LTC/BTC', side: 'buy', qty: '4', price: '0.0013' })).toHaveLength(1);

    gw = await restart(gw, client);
    await waitUntil(
      client,
      () => fillReports(client, 'DK-A').length === 2 && fillReports(client, 'DK-B').length === 1 && fillReports(client, 'DK-C').length === 1,
      10_000,
      'fills made while the gateway was down',
    );
    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.25', price: '59000' });
    await waitUntil(client, () => fillReports(client, 'DK-A').length === 3, 8000, 'last fill of DK-A (polled)');
    client.send('F', cancelFields('DK-C-X', 'DK-C', ref('DK-C')));
    await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === 'DK-C-X' && m.get(150) === '4', { what: 'cancel of DK-C' });
    await sleep(2500);

    expect(fillReports(client, 'DK-A').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '0.1', 31: '59000', 14: '0.1', 151: '0.4', 6: '59000' },
      { 150: '1', 39: '1', 32: '0.15', 31: '59000', 14: '0.25', 151: '0.25', 6: '59000' },
      { 150: '2', 39: '2', 32: '0.25', 31: '59000', 14: '0.5', 151: '0', 6: '59000' },
    ]);
    expect(fillReports(client, 'DK-B').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '2', 39: '2', 32: '2', 31: '2900.5', 14: '2', 151: '0', 6: '2900.5' },
    ]);
    expect(fillReports(client, 'DK-C').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '4', 31: '0.0013', 14: '4', 151: '6', 6: '0.0013' },
    ]);
    const cReports = liveReports(client, 'DK-C').map((m) => m.get(150));
    expect([['0', '1', '6', '4'], ['0', '1', '4']]).toContainEqual(cReports);
    const canceled = liveReports(client, 'DK-C').pop()!;
    expect(f(canceled, 11, 41, 39, 14, 151, 6)).toEqual({ 11: 'DK-C-X', 41: 'DK-C', 39: '4', 14: '4', 151: '0', 6: '0.0013' });

    // Every live ER is a distinct report (a repeated ExecID only as a PossDup copy).
    const all = client.received.filter((m) => m.msgType === '8' && m.get(20) === '0');
    const reports = Object.keys(ORDERS).flatMap((cl) => liveReports(client, cl));
    expect(new Set(all.map((m) => m.get(17))).size).toBe(reports.length);

    expect(f(await status(client, 'DK-A', ref('DK-A')), 20, 17, 39, 150, 14, 151, 6)).toEqual({ 20: '3', 17: '0', 39: '2', 150: '2', 14: '0.5', 151: '0', 6: '59000' });
    expect(f(await status(client, 'DK-B', ref('DK-B')), 39, 150, 14, 151)).toEqual({ 39: '2', 150: '2', 14: '2', 151: '0' });
    expect(f(await status(client, 'DK-C', ref('DK-C')), 39, 150, 14, 151)).toEqual({ 39: '4', 150: '4', 14: '4', 151: '0' });
    // The venue: exactly the three orders, in the states reported.
    const venue = (await sim.orders()).filter((o) => Object.values(acks).some((a) => a.get(37) === uuidOf(o.orderId)));
    expect(venue.map((o) => [o.symbol, o.status, o.cumQty]).sort()).toEqual([
      ['BTC/USD', 'filled', '0.5'],
      ['ETH/USD', 'filled', '2'],
      ['LTC/BTC', 'canceled', '4'],
    ]);
    expectFixInvariants(rec);
  });

  test('SIGKILL while the create request is in flight (the venue has the order, the gateway has no reply and no client order id): after the restart it is found by content, acked, and its fills reported once', async () => {
    const sim = suite.control;
    let gw = await startGateway();
    const { client, rec } = await connectClient(gw.port);
    await sim.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 30_000 });
    const price = '58000.75';
    const before = (await sim.orders({ symbol: 'BTC/USD' })).length;
    client.send('D', nosFields('DK-U', { symbol: 'BTC/USD', qty: '0.3', price }));
    const venueId = uuidOf((await suite.waitForVenueOrder((x) => x.price === price, { symbol: 'BTC/USD' })).orderId);
    await sleep(100);
    await crash(gw, client);
    expect(client.received.filter((m) => m.msgType === '8' && m.get(11) === 'DK-U')).toEqual([]);

    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.1', price });

    gw = await restart(gw, client);
    await waitUntil(client, () => fillReports(client, 'DK-U').length === 1, 15_000, 'fill of DK-U after the restart');
    await sleep(300);
    const reports = liveReports(client, 'DK-U');
    expect(reports.map((m) => m.get(150)).filter((t) => t !== 'A')).toEqual(['0', '1']);
    expect(f(reports[reports.length - 1], 150, 39, 32, 31, 14, 151, 6, 37)).toEqual({ 150: '1', 39: '1', 32: '0.1', 31: price, 14: '0.1', 151: '0.2', 6: price, 37: venueId });
    expect((await sim.orders({ symbol: 'BTC/USD' })).length).toBe(before + 1);

    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.2', price });
    await waitUntil(client, () => fillReports(client, 'DK-U').length === 2, 8000, 'last fill of DK-U (polled)');
    await sleep(2500);
    expect(fillReports(client, 'DK-U')).toHaveLength(2);
    expect(f(await status(client, 'DK-U', { symbol: 'BTC/USD', side: '1' }), 39, 150, 14, 151, 6)).toEqual({ 39: '2', 150: '2', 14: '0.3', 151: '0', 6: price });
    expectFixInvariants(rec);
  });
});
