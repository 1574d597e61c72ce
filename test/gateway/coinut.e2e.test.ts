// End to end on Coinut: a FIX 4.2 client over TCP → the gateway process (`node dist/main.js`,
// session GATEWAY <- QFCLIENT, Venue=coinut, VenueEnvironment=simulator) → the Coinut simulator as
// its own child process (`simulate --venue coinut`) over its WebSocket (trading, events) and REST
// `POST /` (queries while the WS is down), on loopback. The simulator outlives the gateway, so the
// SIGKILL test restarts the gateway on the same store against the same venue state; the venue's
// own view of every order is read through /__sim/orders.
//
// What is Coinut's own here: integer client order ids (allocated by the gateway, never reused,
// never colliding across a restart); no order_accepted for market orders (150=0 comes before their
// first fill); order_rejected reasons[] → 150=8 with the reason in 58; no single-order query
// (status from user_open_orders + trade_history); a dropped WebSocket makes every request in flight
// an unknown outcome; every event goes to every connection of the account.
//
// Every test ends by checking the FIX ExecutionReport invariants over its messages.
import { FixMsg, FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, buildConfig, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';
import {
  CLIENT_COMP_ID,
  FixRecorder,
  GATEWAY_COMP_ID,
  NosFields,
  SimOrderView,
  SimulatorProcess,
  autoAnswerResendRequests,
  cancelFields,
  expectFixInvariants,
  gatewayConfig,
  killAllSimulators,
  logonAndSync,
  nosFields,
  reportsFor,
  startSimulatorProcess,
  statusFields,
  waitForMessage,
  waitUntil,
} from '../support/gateway-e2e';
import { bidLadder, execType, usePerTestReports } from '../support/per-test-reports';
import { fieldsOf as f, requestStatus } from '../support/venue-crash-suite';

jest.setTimeout(60_000);

const SYMBOL = 'BTCUSDT';
let simProc: SimulatorProcess;
let gw: GatewayProcess;
let client: FixTestClient;
let rec: FixRecorder;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Resting buys stay on the book: each test's buy is above every earlier one (below the best ask,
// 60000.01) and external sells are limited to it, so a sell reaches only the order of its test.
const nextBid = bidLadder({ limit: 59990 });

const sell = (qty: string, price: string) => simProc.control.trade({ symbol: SYMBOL, side: 'sell', qty, price });

function config(): string {
  return gatewayConfig({ Venue: 'coinut', VenueRestUrl: simProc.restUrl, VenueWsUrl: simProc.wsUrl });
}

async function startGateway(prev?: GatewayProcess): Promise<GatewayProcess> {
  const g = await startGatewayProcess({ config: config(), dir: prev?.dir, ports: prev ? [...prev.ports] : undefined });
  await g.waitForLog((e) => e.msg === 'venue ready', 10_000);
  return g;
}

async function connect(port: number): Promise<void> {
  client = await FixTestClient.connect({ port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
  rec = new FixRecorder(client);
  autoAnswerResendRequests(client);
  await logonAndSync(client);
}

beforeAll(async () => {
  simProc = await startSimulatorProcess({ venue: 'coinut' });
  gw = await startGateway();
  await connect(gw.port);
});

const thisTest = usePerTestReports(() => client, () => rec, 8000);
const { er, live, fillsOf } = thisTest;

afterEach(async () => {
  await simProc?.control.clearFaults().catch(() => undefined);
  await simProc?.control.configure({ replyDelayMs: 0, balances: {} }).catch(() => undefined);
});

afterAll(async () => {
  client?.destroy();
  await killAllGateways();
  await simProc?.stop().catch(() => undefined);
  await killAllSimulators();
  if (gw) removeDir(gw.dir);
});

// ------------------------------------------------------------------------------------ helpers

function nos(clOrdId: string, fields: NosFields, opts: Parameters<FixTestClient['send']>[2] = {}) {
  return client.send('D', nosFields(clOrdId, { symbol: SYMBOL, ...fields }), opts);
}

const status = (clOrdId: string, side: '1' | '2' = '1') => requestStatus(client, clOrdId, { symbol: SYMBOL, side });

async function resting(clOrdId: string, fields: NosFields): Promise<FixMsg> {
  nos(clOrdId, fields);
  return er(clOrdId, execType('0'));
}

async function venueOrder(orderId: string): Promise<SimOrderView> {
  const o = (await simProc.control.orders()).find((x) => x.orderId === orderId);
  if (!o) throw new Error(`venue has no order ${orderId}`);
  return o;
}

const checkInvariants = () => expectFixInvariants(rec, thisTest.recFrom);

// ------------------------------------------------------------------------------------ tests

describe('Coinut end to end: FIX client → gateway process → Coinut simulator process', () => {
  test('a limit buy below the ask rests: one 150=0/39=0 with the venue order id; the venue has it with an integer client_ord_id', async () => {
    const before = (await simProc.control.orders()).length;
    const px = nextBid();
    nos('NEW-1', { qty: '0.25', price: px });
    const ack = await er('NEW-1');
    expect(f(ack, 11, 14, 20, 38, 39, 40, 44, 54, 55, 59, 150, 151, 6)).toEqual({
      11: 'NEW-1', 14: '0', 20: '0', 38: '0.25', 39: '0', 40: '2', 44: px, 54: '1', 55: SYMBOL, 59: '1', 150: '0', 151: '0.25', 6: '0',
    });
    expect((await simProc.control.orders()).length).toBe(before + 1);
    const v = await venueOrder(ack.get(37)!);
    expect(v).toMatchObject({ symbol: SYMBOL, side: 'buy', qty: '0.25', price: px, status: 'new', resting: true });
    expect(v.clientOrderId).toMatch(/^[1-9]\d{0,7}$/);
    expect(Number(v.clientOrderId)).toBeLessThanOrEqual(16_777_215);
    await sleep(300);
    expect(live('NEW-1').map((m) => m.get(150))).toEqual(['0']);
    checkInvariants();
  });

  test('OrderStatusRequest: 20=3 with 150 = 39 = the current status (new, partially filled, filled); unknown ClOrdID → 150=8 39=8 103=5', async () => {
    const px = nextBid();
    await resting('ST-1', { qty: '0.4', price: px });
    let s = await status('ST-1');
    expect(f(s, 11, 17, 20, 39, 150, 14, 151, 6, 38)).toEqual({ 11: 'ST-1', 17: '0', 20: '3', 39: '0', 150: '0', 14: '0', 151: '0.4', 6: '0', 38: '0.4' });
    await sell('0.15', px);
    await er('ST-1', execType('1'));
    s = await status('ST-1');
    expect(f(s, 20, 39, 150, 14, 151, 6)).toEqual({ 20: '3', 39: '1', 150: '1', 14: '0.15', 151: '0.25', 6: px });
    await sell('0.25', px);
    await er('ST-1', execType('2'));
    s = await status('ST-1');
    expect(f(s, 20, 39, 150, 14, 151, 6)).toEqual({ 20: '3', 39: '2', 150: '2', 14: '0.4', 151: '0', 6: px });
    const unknown = await status('ST-NOPE');
    expect(f(unknown, 20, 17, 39, 150, 37, 103)).toEqual({ 20: '3', 17: '0', 39: '8', 150: '8', 37: 'NONE', 103: '5' });
    checkInvariants();
  });

  test('a resting order filled in three pieces at its own price: exact 32/31/14/151/6, ExecIDs unique and naming the venue trades', async () => {
    const px = nextBid();
    const ack = await resting('FL-1', { qty: '0.1', price: px });
    const pieces = ['0.03', '0.045', '0.025'];
    const expected = [
      { 150: '1', 39: '1', 32: '0.03', 31: px, 14: '0.03', 151: '0.07', 6: px },
      { 150: '1', 39: '1', 32: '0.045', 31: px, 14: '0.075', 151: '0.025', 6: px },
      { 150: '2', 39: '2', 32: '0.025', 31: px, 14: '0.1', 151: '0', 6: px },
    ];
    for (let i = 0; i < pieces.length; i++) {
      const made = await sell(pieces[i], px);
      expect(made.map((x) => [x.orderId, x.qty])).toEqual([[ack.get(37), pieces[i]]]);
      await waitUntil(client, () => fillsOf('FL-1').length > i, 5000, `fill ${i + 1} of FL-1`);
      expect(f(fillsOf('FL-1')[i], 150, 39, 32, 31, 14, 151, 6)).toEqual(expected[i]);
    }
    await sleep(200);
    expect(fillsOf('FL-1')).toHaveLength(3);
    const ids = live('FL-1').map((m) => m.get(17));
    expect(new Set(ids).size).toBe(ids.length);
    const v = await venueOrder(ack.get(37)!);
    expect(v.status).toBe('filled');
    checkInvariants();
  });

  test('a crossing buy fills at three price levels: one ER per order_filled at its own LastPx, AvgPx exact (60000.018)', async () => {
    // The simulator's asks: 60000.01, 60000.02, 60000.03 ... with 10 BTC each.
    nos('FL-2', { qty: '25', price: '60000.03' });
    const last = await er('FL-2', execType('2'));
    await sleep(300);
    const v = await venueOrder(last.get(37)!);
    expect(v.fills.map((x) => [x.qty, x.price])).toEqual([['10', '60000.01'], ['10', '60000.02'], ['5', '60000.03']]);
    expect(live('FL-2').map((m) => m.get(150))).toEqual(['0', '1', '1', '2']);
    expect(f(last, 39, 14, 151, 6)).toEqual({ 39: '2', 14: '25', 151: '0', 6: '60000.018' });
    expect(fillsOf('FL-2').map((m) => [m.get(32), m.get(31), m.get(6)])).toEqual([
      ['10', '60000.01', '60000.01'],
      ['10', '60000.02', '60000.015'],
      ['5', '60000.03', '60000.018'],
    ]);
    checkInvariants();
  });

  test('a market order (no order_accepted at Coinut) gets 150=0 before its first fill, then fills at its own prices', async () => {
    nos('MKT-1', { qty: '12', ordType: '1', tif: '3' });
    const last = await er('MKT-1', execType('2'));
    await sleep(300);
    const reports = live('MKT-1');
    expect(reports.map((m) => m.get(150))).toEqual(['0', '1', '2']);
    expect(f(reports[0], 39, 14, 151, 40)).toEqual({ 39: '0', 14: '0', 151: '12', 40: '1' });
    const v = await venueOrder(last.get(37)!);
    expect(v.type).toBe('market');
    expect(v.fills.map((x) => [x.qty, x.price])).toEqual(fillsOf('MKT-1').map((m) => [m.get(32), m.get(31)]));
    checkInvariants();
  });

  test('local rejects (no venue call): bad tick → 103=0, unknown symbol → 103=1, Day/IOC limits (Coinut limits are GTC only) → 103=0, each with a Text', async () => {
    const before = (await simProc.control.orders()).length;
    nos('LR-TICK', { qty: '0.1', price: '50000.001' });
    nos('LR-SYM', { qty: '1', price: '10', symbol: 'XYZUSDT' });
    nos('LR-IOC', { qty: '0.1', price: '50000', tif: '3' });
    nos('LR-DAY', { qty: '0.1', price: '50000', tif: '0' });
    const [tick, sym, ioc, day] = [await er('LR-TICK'), await er('LR-SYM'), await er('LR-IOC'), await er('LR-DAY')];
    for (const m of [tick, sym, ioc, day]) expect(f(m, 150, 39, 14, 151, 20, 37)).toEqual({ 150: '8', 39: '8', 14: '0', 151: '0', 20: '0', 37: 'NONE' });
    expect(tick.get(103)).toBe('0');
    expect(tick.get(58)).toMatch(/50000\.001.*tick size 0\.01/);
    expect(sym.get(103)).toBe('1');
    expect(sym.get(58)).toMatch(/Unknown symbol XYZUSDT/);
    expect(ioc.get(58)).toMatch(/TimeInForce 3/);
    expect(day.get(58)).toMatch(/TimeInForce 0|Day/);
    await sleep(200);
    expect((await simProc.control.orders()).length).toBe(before);
    checkInvariants();
  });

  test('venue reject: order_rejected NOT_ENOUGH_BALANCE → 150=8/39=8 103=3 with the reason in 58; nothing rests at the venue', async () => {
    await simProc.control.configure({ balances: { USDT: '100', BTC: '0.5' } });
    const px = nextBid();
    nos('VR-BAL', { qty: '1', price: px });
    const rej = await er('VR-BAL', execType('8'));
    expect(f(rej, 39, 14, 151, 103)).toEqual({ 39: '8', 14: '0', 151: '0', 103: '3' }); // 3 = exceeds limit (insufficient funds)
    expect(rej.get(58)).toMatch(/NOT_ENOUGH_BALANCE/);
    expect((await simProc.control.orders()).filter((o) => o.price === px && o.resting)).toEqual([]);
    // A market sell of BTC the account does not have is refused the same way.
    nos('VR-BAL-M', { qty: '2', ordType: '1', side: '2', tif: '3' });
    const rejM = await er('VR-BAL-M', execType('8'));
    expect(f(rejM, 39, 14, 151, 40)).toEqual({ 39: '8', 14: '0', 151: '0', 40: '1' });
    expect(rejM.get(58)).toMatch(/NOT_ENOUGH_BALANCE/);
    await sleep(300);
    expect(live('VR-BAL').map((m) => m.get(150))).toEqual(['8']);
    expect(live('VR-BAL-M').map((m) => m.get(150))).toEqual(['8']);
    checkInvariants();
  });

  test('duplicate ClOrdID: 150=8/39=8 103=6; the original order and the venue untouched', async () => {
    const px = nextBid();
    const ack = await resting('DUP-1', { qty: '0.2', price: px });
    const before = (await simProc.control.orders()).length;
    nos('DUP-1', { qty: '0.3', price: nextBid() });
    const rej = await er('DUP-1', execType('8'));
    expect(f(rej, 11, 39, 103, 14, 151, 38)).toEqual({ 11: 'DUP-1', 39: '8', 103: '6', 14: '0', 151: '0', 38: '0.3' });
    await sleep(200);
    expect((await simProc.control.orders()).length).toBe(before);
    expect(f(await status('DUP-1'), 39, 150, 151, 44)).toEqual({ 39: '0', 150: '0', 151: '0.2', 44: px });
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    checkInvariants();
  });

  test('PossDup / PossResend resends of a NewOrderSingle create no second venue order', async () => {
    const px = nextBid();
    const first = nos('PD-1', { qty: '0.11', price: px });
    const ack = await er('PD-1', execType('0'));
    const before = await simProc.control.orders();
    const body = first.body.map((x) => [x.tag, x.value] as [number, string]);
    client.send('D', body, { possDup: true, origSendingTime: first.sendingTime });
    client.send('D', body, { seqNum: first.seqNum, possDup: true, origSendingTime: first.sendingTime });
    client.send('D', body, { header: [[97, 'Y']] });
    expect(f(await status('PD-1'), 39, 150, 151)).toEqual({ 39: '0', 150: '0', 151: '0.11' });
    await sleep(300);
    const after = await simProc.control.orders();
    expect(after.length).toBe(before.length);
    expect(after.filter((o) => o.price === px).map((o) => o.orderId)).toEqual([ack.get(37)]);
    expect(live('PD-1').map((m) => m.get(150))).toEqual(['0']);
    expect(client.received.slice(thisTest.rxFrom).filter((m) => ['3', 'j', '5', '9'].includes(m.msgType))).toEqual([]);
    checkInvariants();
  });

  test('cancel: 150=4/39=4 with 11 = the cancel ClOrdID and 41 = the original; partial fill then cancel keeps CumQty', async () => {
    const ack = await resting('CX-1', { qty: '0.3', price: nextBid() });
    client.send('F', cancelFields('CX-1-C', 'CX-1', { symbol: SYMBOL }));
    const done = await er('CX-1-C', execType('4'));
    expect(f(done, 11, 41, 39, 150, 14, 151, 37)).toEqual({ 11: 'CX-1-C', 41: 'CX-1', 39: '4', 150: '4', 14: '0', 151: '0', 37: ack.get(37) });
    expect(live('CX-1').map((m) => m.get(150))).toEqual(['0', '4']); // cancel_order answers once the order is off the book: no 150=6
    expect((await venueOrder(ack.get(37)!)).status).toBe('canceled');
    expect(f(await status('CX-1'), 39, 150, 14, 151)).toEqual({ 39: '4', 150: '4', 14: '0', 151: '0' });

    const px = nextBid();
    const ack2 = await resting('PC-1', { qty: '0.5', price: px });
    await sell('0.2', px);
    await er('PC-1', execType('1'));
    client.send('F', cancelFields('PC-1-C', 'PC-1', { symbol: SYMBOL }));
    const done2 = await er('PC-1-C', execType('4'));
    expect(f(done2, 39, 14, 151, 6)).toEqual({ 39: '4', 14: '0.2', 151: '0', 6: px });
    expect(await venueOrder(ack2.get(37)!)).toMatchObject({ status: 'canceled', cumQty: '0.2' });
    checkInvariants();
  });

  test('cancel rejects: unknown order → 35=9 102=1; too late at the venue (its fill not seen yet) → 102=0, then the fill reported once', async () => {
    client.send('F', cancelFields('CR-U-C', 'CR-UNKNOWN', { symbol: SYMBOL }));
    const unknown = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'CR-U-C', { from: thisTest.rxFrom });
    expect(f(unknown, 41, 434, 102, 39)).toEqual({ 41: 'CR-UNKNOWN', 434: '1', 102: '1', 39: '8' });

    const px = nextBid();
    const ack = await resting('CR-V', { qty: '0.07', price: px });
    await simProc.control.armFaults({ kind: 'suppressStreamEvents', count: 1 });
    const made = await sell('0.07', px);
    expect(made.map((x) => x.orderId)).toEqual([ack.get(37)]);
    await sleep(150);
    expect(live('CR-V').map((m) => m.get(150))).toEqual(['0']);
    client.send('F', cancelFields('CR-V-C', 'CR-V', { symbol: SYMBOL }));
    const rej = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'CR-V-C', { from: thisTest.rxFrom });
    expect(f(rej, 41, 434, 102)).toEqual({ 41: 'CR-V', 434: '1', 102: '0' });
    const fill = await er('CR-V', execType('2'));
    expect(f(fill, 32, 31, 14, 151, 39, 6)).toEqual({ 32: '0.07', 31: px, 14: '0.07', 151: '0', 39: '2', 6: px });
    await sleep(300);
    expect(fillsOf('CR-V')).toHaveLength(1);
    expect((await venueOrder(ack.get(37)!)).status).toBe('filled');
    checkInvariants();
  });

  test('WebSocket dropped right after the venue created the order (no reply): 150=A, then 150=0 found through user_open_orders; exactly one venue order', async () => {
    await simProc.control.armFaults({ kind: 'dropConnectionAfter', operation: 'create' });
    const before = (await simProc.control.orders()).length;
    const px = nextBid();
    nos('UD-1', { qty: '0.13', price: px });
    const ack = await er('UD-1', execType('0'), 15_000);
    expect(live('UD-1').map((m) => m.get(150))).toEqual(['A', '0']);
    expect(await simProc.control.pendingFaults()).toEqual([]);
    await sleep(300);
    expect((await simProc.control.orders()).length).toBe(before + 1);
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    await sell('0.13', px);
    const fill = await er('UD-1', execType('2'));
    expect(f(fill, 32, 31, 14, 151, 6)).toEqual({ 32: '0.13', 31: px, 14: '0.13', 151: '0', 6: px });
    checkInvariants();
  });

  test('WebSocket dropped before the venue read the create: 150=A, proven absent only after absenceProofMs, then 150=8; the venue has no such order', async () => {
    await simProc.control.armFaults({ kind: 'error5xxBefore', operation: 'create' });
    const before = (await simProc.control.orders()).length;
    const sentAt = Date.now();
    nos('UD-2', { qty: '0.17', price: nextBid() });
    const rej = await er('UD-2', execType('8'), 30_000);
    // Coinut's absenceProofMs: 2 × the 5 s request timeout.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(10_000);
    expect(live('UD-2').map((m) => m.get(150))).toEqual(['A', '8']);
    expect(rej.get(58)).toBeDefined();
    expect((await simProc.control.orders()).length).toBe(before);
    checkInvariants();
  });

  test('the WebSocket drops with three creates in flight: each is an unknown outcome (150=A), none is placed twice, and each ends 150=8 once proven absent', async () => {
    // Replies held 400 ms: the link drops while all three wait, before the venue acted on them.
    await simProc.control.configure({ replyDelayMs: 400 });
    const before = (await simProc.control.orders()).length;
    const px = nextBid();
    for (const cl of ['WD-1', 'WD-2', 'WD-3']) nos(cl, { qty: '0.02', price: px });
    await sleep(150);
    expect(await simProc.control.dropStreams()).toBe(1);
    await simProc.control.configure({ replyDelayMs: 0 });
    for (const cl of ['WD-1', 'WD-2', 'WD-3']) await er(cl, execType('8'), 30_000);
    for (const cl of ['WD-1', 'WD-2', 'WD-3']) expect(live(cl).map((m) => m.get(150))).toEqual(['A', '8']);
    expect((await simProc.control.orders()).length).toBe(before);
    checkInvariants();
  });

  test('1,000 orders in flight through the gateway at once: every one acknowledged, one venue order each, distinct client order ids, no nonce ever reused', async () => {
    // The simulator holds every reply 50 ms, so the requests overlap on the one WebSocket; it
    // answers a nonce still outstanding on the connection with INVALID_NONCE (never seen here).
    await simProc.control.configure({ replyDelayMs: 50 });
    const N = 1000;
    const before = (await simProc.control.orders({ symbol: 'ETHUSDT' })).length;
    for (let i = 0; i < N; i++) nos(`LD-${i}`, { symbol: 'ETHUSDT', qty: '0.01', price: '1000.01' });
    const acks = () => client.received.slice(thisTest.rxFrom).filter((m) => m.msgType === '8' && m.get(11)!.startsWith('LD-') && m.get(20) === '0');
    await waitUntil(client, () => acks().length >= N, 45_000, `${N} acks`);
    expect(acks().map((m) => m.get(150)).filter((x) => x !== '0')).toEqual([]);
    const venue = (await simProc.control.orders({ symbol: 'ETHUSDT' })).slice(before);
    expect(venue).toHaveLength(N);
    expect(new Set(venue.map((o) => o.clientOrderId)).size).toBe(N);
    expect(new Set(acks().map((m) => m.get(37))).size).toBe(N);
    checkInvariants();
  }, 90_000);
});

describe('Coinut across a SIGKILL of the gateway (the simulator child keeps trading)', () => {
  test('open orders filled while the gateway is down and after its restart are reported once each; client order ids never collide across the restart', async () => {
    // A on its own symbol, so a sell for B (the higher BTCUSDT bid) cannot reach it, and vice versa.
    const pxA = '2000.5';
    const pxB = nextBid();
    const ackA = await resting('K-A', { qty: '0.3', price: pxA, symbol: 'ETHUSDT' });
    const ackB = await resting('K-B', { qty: '0.2', price: pxB });
    const idsBefore = new Set((await simProc.control.orders()).map((o) => o.clientOrderId));

    await gw.kill('SIGKILL');
    await client.waitClosed(5000);
    // While the gateway is down: B is partly filled.
    await sell('0.05', pxB);

    gw = await startGateway(gw);
    await client.reconnect(gw.port);
    await logonAndSync(client);
    // The fill made while down is found by reconciliation; later fills come from the stream, which
    // the restarted adapter must recognise as ours (trackOrders).
    await waitUntil(client, () => fillReports('K-B').length === 1, 10_000, 'fill of K-B made while down');
    // A was untouched while the gateway was down: only trackOrders tells the restarted adapter
    // that its events are ours (Coinut pushes every account event to every connection).
    await simProc.control.trade({ symbol: 'ETHUSDT', side: 'sell', qty: '0.1', price: pxA });
    await sell('0.15', pxB);
    await waitUntil(client, () => fillReports('K-A').length === 1 && fillReports('K-B').length === 2, 10_000, 'fills after the restart');
    await sleep(500);
    expect(fillReports('K-A').map((m) => f(m, 150, 32, 31, 14, 151))).toEqual([{ 150: '1', 32: '0.1', 31: pxA, 14: '0.1', 151: '0.2' }]);
    expect(fillReports('K-B').map((m) => f(m, 150, 32, 31, 14, 151))).toEqual([
      { 150: '1', 32: '0.05', 31: pxB, 14: '0.05', 151: '0.15' },
      { 150: '2', 32: '0.15', 31: pxB, 14: '0.2', 151: '0' },
    ]);
    expect((await venueOrder(ackA.get(37)!)).cumQty).toBe('0.1');
    expect((await venueOrder(ackB.get(37)!)).status).toBe('filled');

    // New orders after the restart get client order ids no earlier order has.
    const px = nextBid();
    for (let i = 0; i < 5; i++) nos(`K-N${i}`, { qty: '0.01', price: px });
    for (let i = 0; i < 5; i++) await er(`K-N${i}`, execType('0'));
    const fresh = (await simProc.control.orders()).filter((o) => o.price === px).map((o) => o.clientOrderId);
    expect(fresh).toHaveLength(5);
    expect(new Set(fresh).size).toBe(5);
    for (const id of fresh) expect(idsBefore.has(id)).toBe(false);

    // Status and cancel work on an order from before the crash.
    const from = client.received.length;
    client.send('H', statusFields('K-A', { symbol: 'ETHUSDT' }));
    const s = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === 'K-A' && m.get(20) === '3', { from });
    expect(f(s, 39, 14, 151)).toEqual({ 39: '1', 14: '0.1', 151: '0.2' });
    client.send('F', cancelFields('K-A-C', 'K-A', { symbol: 'ETHUSDT' }));
    await er('K-A-C', execType('4'));
    expect((await venueOrder(ackA.get(37)!)).status).toBe('canceled');
    checkInvariants();
  });
});

/** Live fill reports as the client's application takes them (a PossDup repeat of an ExecID dropped). */
function fillReports(clOrdId: string): FixMsg[] {
  const seen = new Set<string>();
  return reportsFor(client, clOrdId, thisTest.rxFrom)
    .filter((m) => m.get(20) === '0' && (m.get(150) === '1' || m.get(150) === '2'))
    .filter((m) => (seen.has(m.get(17)!) ? false : (seen.add(m.get(17)!), true)))
    .sort((a, b) => Number(a.get(34)) - Number(b.get(34)));
}

describe('Coinut: two gateway sessions on one Coinut account (every event goes to both connections)', () => {
  test('their client order ids never coincide, and a session reports only its own orders and fills', async () => {
    const two = await startGatewayProcess({
      config: buildConfig(
        ['QFCLIENT', 'QFDESK2'].map((target) => ({
          SenderCompID: 'GATEWAY',
          TargetCompID: target,
          Application: 'gateway',
          Venue: 'coinut',
          VenueEnvironment: 'simulator',
          VenueRestUrl: simProc.restUrl,
          VenueWsUrl: simProc.wsUrl,
        })),
        { ResetOnLogon: 'N', ResetOnLogout: 'N', ResetOnDisconnect: 'N' },
      ),
    });
    const clients: FixTestClient[] = [];
    try {
      for (let i = 0; two.logs().filter((l) => l.msg === 'venue ready').length < 2; i++) {
        if (i > 200) throw new Error(`venues not ready\n${two.describe()}`);
        await sleep(50);
      }
      const recs: FixRecorder[] = [];
      for (const comp of ['QFCLIENT', 'QFDESK2']) {
        const c = await FixTestClient.connect({ port: two.port, senderCompId: comp, targetCompId: GATEWAY_COMP_ID });
        recs.push(new FixRecorder(c));
        autoAnswerResendRequests(c);
        await c.logon({ heartBtInt: 30 });
        clients.push(c);
      }
      const [a, b] = clients;
      const pxA = nextBid();
      const pxB = nextBid(); // higher: an external sell at pxB reaches B's orders only
      for (let i = 0; i < 20; i++) {
        a.send('D', nosFields(`TA-${i}`, { symbol: SYMBOL, qty: '0.01', price: pxA }));
        b.send('D', nosFields(`TB-${i}`, { symbol: SYMBOL, qty: '0.01', price: pxB }));
      }
      const acked = (c: FixTestClient, prefix: string) => c.received.filter((m) => m.msgType === '8' && m.get(150) === '0' && m.get(11)!.startsWith(prefix)).length;
      await waitUntil(a, () => acked(a, 'TA-') === 20, 10_000, 'A acked');
      await waitUntil(b, () => acked(b, 'TB-') === 20, 10_000, 'B acked');
      const venue = await simProc.control.orders();
      const idsA = venue.filter((o) => o.price === pxA).map((o) => o.clientOrderId);
      const idsB = venue.filter((o) => o.price === pxB).map((o) => o.clientOrderId);
      expect(idsA).toHaveLength(20);
      expect(idsB).toHaveLength(20);
      expect(new Set([...idsA, ...idsB]).size).toBe(40);

      // B's orders fill; A hears nothing of it.
      const fromA = a.received.length;
      await sell('0.2', pxB);
      const filled = (c: FixTestClient) => c.received.filter((m) => m.msgType === '8' && m.get(39) === '2').length;
      await waitUntil(b, () => filled(b) === 20, 10_000, 'B filled');
      await sleep(500);
      expect(a.received.slice(fromA).filter((m) => m.msgType === '8')).toEqual([]);
      // Every ER either session got is for a ClOrdID it sent.
      expect(a.received.filter((m) => m.msgType === '8').every((m) => m.get(11)!.startsWith('TA-'))).toBe(true);
      expect(b.received.filter((m) => m.msgType === '8').every((m) => m.get(11)!.startsWith('TB-'))).toBe(true);
      expectFixInvariants(recs[0], 0);
      expectFixInvariants(recs[1], 0);
      // A's orders are left resting below every later test's bid; cancel them to keep the book clean.
      for (let i = 0; i < 20; i++) a.send('F', cancelFields(`TA-${i}-C`, `TA-${i}`, { symbol: SYMBOL }));
      await waitUntil(a, () => a.received.filter((m) => m.msgType === '8' && m.get(150) === '4').length === 20, 10_000, 'A canceled');
    } finally {
      for (const c of clients) c.destroy();
      await two.stop().catch(() => two.kill('SIGKILL'));
      removeDir(two.dir);
    }
  });
});
