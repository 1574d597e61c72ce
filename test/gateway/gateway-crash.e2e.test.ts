// End to end, across a crash: the gateway process is SIGKILLed with open orders and restarted on
// the same store, while the HashKey simulator keeps running as its own child process
// (`node dist/main.js simulate --venue hashkey`), so the venue state outlives the gateway. The
// gateway session points at it with VenueEnvironment=simulator + VenueRestUrl/VenueWsUrl (the demo
// credentials both default to). Fills made while the gateway is down and after the restart must be
// reported exactly once each, with correct CumQty and stable, unique ExecIDs; status requests work
// after the restart. The FIX client keeps its sequence numbers across the restart and repairs any
// gap with a ResendRequest; the FIX invariants are checked over everything it received.
import { FixMsg } from '../support/fix-test-client';
import { startGatewayProcess } from '../support/gateway-process';
import {
  SimOrderView,
  cancelFields,
  expectFixInvariants,
  fileSize,
  logonAndSync,
  nosFields,
  NosFields,
  sessionEventLog,
  waitForFileLine,
  waitForMessage,
  waitUntil,
} from '../support/gateway-e2e';
import {
  fieldsOf as f,
  fillReports,
  liveReports,
  requestStatus as status,
  sleep,
  useVenueCrashSuite,
  waitForAcks,
} from '../support/venue-crash-suite';

jest.setTimeout(40_000);

const suite = useVenueCrashSuite({
  // The simulator child admits far more than HashKey's published 10 orders/s and 2 queries/s.
  session: { VenueRateLimitOrders: 1000, VenueRateLimitQueries: 1000 },
});
const { startGateway, connectClient, crash, restart } = suite;

async function venueOrder(orderId: string): Promise<SimOrderView> {
  const o = (await suite.control.orders()).find((x) => x.orderId === orderId);
  if (!o) throw new Error(`venue has no order ${orderId}`);
  return o;
}

/** ExecID of a fill report = F-<venue client order id>-<venue ticketId>: the venue trade it reports. */
const tradeIdOf = (m: FixMsg) => m.get(17)!.split('-').pop();

describe('gateway SIGKILLed and restarted while the venue (simulator child) keeps trading', () => {
  test('fills made while the gateway is down and after its restart are reported once each, CumQty correct, ExecIDs stable and unique; status and cancel work after the restart', async () => {
    const sim = suite.control;
    const ORDERS: Record<string, NosFields> = {
      // One symbol per order, so an external trade can only reach the order it is meant for.
      'K-A': { symbol: 'BTCUSDT', side: '1', qty: '0.5', price: '59000' },
      'K-B': { symbol: 'ETHUSDT', side: '1', qty: '2', price: '2900.5' },
      'K-C': { symbol: 'SOLUSDT', side: '2', qty: '10', price: '160.125' },
    };
    const ref = (cl: string) => ({ symbol: ORDERS[cl].symbol, side: ORDERS[cl].side });

    let gw = await startGateway();
    const { client, rec } = await connectClient(gw.port);
    for (const [cl, o] of Object.entries(ORDERS)) client.send('D', nosFields(cl, o));
    const acks = await waitForAcks(client, Object.keys(ORDERS));
    await sim.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.1', price: '59000' });
    await waitUntil(client, () => fillReports(client, 'K-A').length === 1, 5000, 'first fill of K-A');

    // Crash with three open orders.
    await crash(gw, client);

    // The venue keeps trading while the gateway is down.
    expect(await sim.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.15', price: '59000' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'ETHUSDT', side: 'sell', qty: '2', price: '2900.5' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'SOLUSDT', side: 'buy', qty: '4', price: '160.125' })).toHaveLength(1);

    const eventLog = sessionEventLog(gw.dir);
    const logFrom = fileSize(eventLog);
    gw = await startGateway(gw);
    // The restarted gateway reconciles with the venue before the client is back: the reports it
    // makes go to its store, and reach the client as PossDup resends of the gap at logon.
    await waitForFileLine(eventLog, /Reconciled 3 open orders with hashkey/, logFrom);
    await client.reconnect(gw.port);
    const { resent } = await logonAndSync(client);
    expect(resent.filter((m) => m.msgType === '8').map((m) => `${m.get(11)} ${m.get(150)} ${m.get(32)}`).sort()).toEqual([
      'K-A 1 0.15',
      'K-B 2 2',
      'K-C 1 4',
    ]);

    // Reconciliation reported what happened while the gateway was down.
    await waitUntil(
      client,
      () => fillReports(client, 'K-A').length === 2 && fillReports(client, 'K-B').length === 1 && fillReports(client, 'K-C').length === 1,
      10_000,
      'fills made while the gateway was down',
    );
    // And it keeps trading after the restart.
    await sim.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.25', price: '59000' });
    await waitUntil(client, () => fillReports(client, 'K-A').length === 3, 5000, 'last fill of K-A');
    client.send('F', cancelFields('K-C-X', 'K-C', ref('K-C')));
    await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === 'K-C-X' && m.get(150) === '4', { what: 'cancel of K-C' });
    await sleep(500);

    expect(fillReports(client, 'K-A').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '0.1', 31: '59000', 14: '0.1', 151: '0.4', 6: '59000' },
      { 150: '1', 39: '1', 32: '0.15', 31: '59000', 14: '0.25', 151: '0.25', 6: '59000' },
      { 150: '2', 39: '2', 32: '0.25', 31: '59000', 14: '0.5', 151: '0', 6: '59000' },
    ]);
    expect(fillReports(client, 'K-B').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '2', 39: '2', 32: '2', 31: '2900.5', 14: '2', 151: '0', 6: '2900.5' },
    ]);
    expect(fillReports(client, 'K-C').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '4', 31: '160.125', 14: '4', 151: '6', 6: '160.125' },
    ]);
    expect(liveReports(client, 'K-C').map((m) => m.get(150))).toEqual(['0', '1', '6', '4']);
    const canceled = liveReports(client, 'K-C').pop()!;
    expect(f(canceled, 11, 41, 39, 14, 151, 6)).toEqual({ 11: 'K-C-X', 41: 'K-C', 39: '4', 14: '4', 151: '0', 6: '160.125' });

    // Each venue trade is reported by exactly one fill ER, named after it (stable across the restart).
    for (const cl of Object.keys(ORDERS)) {
      const v = await venueOrder(acks[cl].get(37)!);
      expect(fillReports(client, cl).map(tradeIdOf)).toEqual(v.fills.map((x) => x.tradeId));
    }
    // ExecIDs are unique over both gateway lives: every live ER received is a distinct report (a
    // repeated ExecID only as a PossDup copy of the same report, which liveReports checks).
    const all = client.received.filter((m) => m.msgType === '8' && m.get(20) === '0');
    const reports = Object.keys(ORDERS).flatMap((cl) => liveReports(client, cl));
    expect(reports).toHaveLength(10);
    expect(new Set(all.map((m) => m.get(17))).size).toBe(10);

    // Status requests after the restart.
    expect(f(await status(client, 'K-A', ref('K-A')), 20, 17, 39, 150, 14, 151, 6)).toEqual({
      20: '3',
      17: '0',
      39: '2',
      150: '2',
      14: '0.5',
      151: '0',
      6: '59000',
    });
    expect(f(await status(client, 'K-B', ref('K-B')), 39, 150, 14, 151)).toEqual({ 39: '2', 150: '2', 14: '2', 151: '0' });
    expect(f(await status(client, 'K-C', ref('K-C')), 39, 150, 14, 151)).toEqual({ 39: '4', 150: '4', 14: '4', 151: '0' });
    // Exactly the three venue orders.
    const venueIds = Object.values(acks).map((m) => m.get(37));
    expect((await sim.orders()).filter((o) => venueIds.includes(o.orderId))).toHaveLength(3);
    expectFixInvariants(rec);
  });

  test('SIGKILL while the create request is in flight (the venue has the order, the gateway has no reply): after the restart it is found, acked and its fill reported once', async () => {
    const sim = suite.control;
    let gw = await startGateway();
    const { client, rec } = await connectClient(gw.port);
    // The venue takes the order and never answers; its stream event is swallowed too.
    await sim.armFaults([
      { kind: 'timeoutAfter', operation: 'create', holdMs: 30_000 },
      { kind: 'suppressStreamEvents', count: 1 },
    ]);
    const price = '58000.75';
    client.send('D', nosFields('K-U', { symbol: 'BTCUSDT', qty: '0.3', price }));
    const venue = await suite.waitForVenueOrder((o) => o.price === price, { symbol: 'BTCUSDT' });
    await sleep(100); // the gateway has saved the order and the client's MsgSeqNum
    await crash(gw, client);
    expect(client.received.filter((m) => m.msgType === '8' && m.get(11) === 'K-U')).toEqual([]);

    await sim.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.1', price });

    gw = await restart(gw, client);
    await waitUntil(client, () => fillReports(client, 'K-U').length === 1, 10_000, 'fill of K-U after the restart');
    await sleep(300);
    const reports = liveReports(client, 'K-U');
    // 150=A may come first (the outcome was unknown); then New before the fill.
    expect(reports.map((m) => m.get(150)).filter((t) => t !== 'A')).toEqual(['0', '1']);
    expect(f(reports[reports.length - 1], 150, 39, 32, 31, 14, 151, 6, 37)).toEqual({
      150: '1',
      39: '1',
      32: '0.1',
      31: price,
      14: '0.1',
      151: '0.2',
      6: price,
      37: venue.orderId,
    });
    expect((await sim.orders({ symbol: 'BTCUSDT' })).filter((o) => o.price === price)).toHaveLength(1);
    expect(tradeIdOf(fillReports(client, 'K-U')[0])).toBe((await venueOrder(venue.orderId)).fills[0].tradeId);

    await sim.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.2', price });
    await waitUntil(client, () => fillReports(client, 'K-U').length === 2, 5000, 'last fill of K-U');
    expect(f(await status(client, 'K-U', { symbol: 'BTCUSDT', side: '1' }), 39, 150, 14, 151, 6)).toEqual({
      39: '2',
      150: '2',
      14: '0.3',
      151: '0',
      6: price,
    });
    expectFixInvariants(rec);
  });

  test('SIGKILL while a cancel is in flight (the venue canceled, the gateway has no reply): after the restart 150=4 carries the cancel ClOrdID', async () => {
    const sim = suite.control;
    let gw = await startGateway();
    const { client, rec } = await connectClient(gw.port);
    const ref = { symbol: 'ETHUSDT', side: '1' as const };
    client.send('D', nosFields('KC-1', { ...ref, qty: '1', price: '2800' }));
    const ack = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === 'KC-1' && m.get(150) === '0', { what: 'ack of KC-1' });
    // The venue cancels and never answers; the CANCELED stream event is swallowed too.
    await sim.armFaults([
      { kind: 'timeoutAfter', operation: 'cancel', holdMs: 30_000 },
      { kind: 'suppressStreamEvents', count: 5 },
    ]);
    client.send('F', cancelFields('KC-1-X', 'KC-1', ref));
    for (let i = 0; (await venueOrder(ack.get(37)!)).status !== 'canceled'; i++) {
      if (i > 100) throw new Error('the venue never canceled KC-1');
      await sleep(20);
    }
    await sleep(100);
    await crash(gw, client);
    await sim.clearFaults();

    gw = await restart(gw, client);
    await waitUntil(client, () => liveReports(client, 'KC-1').some((m) => m.get(150) === '4'), 10_000, 'cancel of KC-1 after the restart');
    await sleep(300);
    const reports = liveReports(client, 'KC-1');
    expect(reports.map((m) => m.get(150)).filter((t) => t !== '6')).toEqual(['0', '4']);
    expect(f(reports[reports.length - 1], 11, 41, 39, 14, 151, 37)).toEqual({ 11: 'KC-1-X', 41: 'KC-1', 39: '4', 14: '0', 151: '0', 37: ack.get(37) });
    expect(f(await status(client, 'KC-1', ref), 20, 39, 150, 14, 151)).toEqual({ 20: '3', 39: '4', 150: '4', 14: '0', 151: '0' });
    expectFixInvariants(rec);
  });
  test('a NewOrderSingle that arrives while the venue side is still starting is not rejected as an unknown symbol', async () => {
    // exchangeInfo hangs for 3 s: the gateway's venue start is in progress (no error yet) while the FIX side is up.
    await suite.control.armFaults({ kind: 'timeoutAfter', operation: 'instruments', holdMs: 3000 });
    const gw = await startGatewayProcess({ config: suite.config() });
    suite.removeAfter(gw.dir);
    const { client, rec } = await connectClient(gw.port);
    client.send('D', nosFields('SU-1', { symbol: 'BTCUSDT', qty: '0.1', price: '50000' }));
    const first = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === 'SU-1', { timeoutMs: 15_000 });
    // Either the order waits for the venue (150=0 once it is up) or it is refused because the venue
    // is not available yet (103=0); BTCUSDT is listed, so never 103=1 "Unknown symbol".
    expect(first.get(58) ?? '').not.toMatch(/Unknown symbol/);
    expect(first.get(103)).not.toBe('1');
    expectFixInvariants(rec);
  });

});
