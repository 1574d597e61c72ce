// End to end: a FIX 4.2 client over TCP → the real gateway process (`node dist/main.js`, session
// GATEWAY <- QFCLIENT, Application=gateway, Venue=hashkey, VenueEnvironment=simulator) → the
// HashKey simulator it runs in-process, over HTTP and WebSocket on loopback. The simulator listens
// on VenueSimulatorPort, so the test drives it through its /__sim/ control API (external trades,
// faults, dropped streams) and reads the venue's own view of every order (GET /__sim/orders).
//
// One gateway and one logged-on client serve every test (each test uses its own ClOrdIDs);
// faults are disarmed after each test. Every test ends by checking the FIX ExecutionReport
// invariants (fixinvariants.py's rules) over the messages of that test; the last one checks them
// over the whole session.
import { FixMsg, FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';
import {
  CLIENT_COMP_ID,
  FixRecorder,
  GATEWAY_COMP_ID,
  SimControl,
  SimOrderView,
  autoAnswerResendRequests,
  cancelFields,
  expectFixInvariants,
  gatewayConfig,
  killAllSimulators,
  nosFields,
  NosFields,
  waitForMessage,
  waitUntil,
} from '../support/gateway-e2e';
import { bidLadder, execType, usePerTestReports } from '../support/per-test-reports';
import { fieldsOf as f, requestStatus } from '../support/venue-crash-suite';

jest.setTimeout(30_000);

let gw: GatewayProcess;
let client: FixTestClient;
let rec: FixRecorder;
let sim: SimControl;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Resting buys stay on the book: each test's buy is above every earlier one and external sells are
// limited to it (a sell hits the best bid first), so a trade reaches only the order of its test.
const nextBid = bidLadder({ limit: 59990 });

/** An external seller takes `qty` at `price` (only bids at or above it). */
function sell(qty: string, price: string) {
  return sim.trade({ symbol: 'BTCUSDT', side: 'sell', qty, price });
}

beforeAll(async () => {
  gw = await startGatewayProcess({
    config: gatewayConfig({ VenueSimulatorPort: '{{PORT2}}' }),
    portCount: 2,
  });
  sim = new SimControl(`http://127.0.0.1:${gw.ports[1]}`);
  // The FIX side is up before the venue side: wait for the instruments and the user stream.
  await gw.waitForLog((e) => e.msg === 'venue ready', 10_000);
  for (let i = 0; (await sim.streams()) < 1; i++) {
    if (i > 100) throw new Error(`gateway never connected its user stream\n${gw.describe()}`);
    await sleep(50);
  }
  client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
  rec = new FixRecorder(client);
  autoAnswerResendRequests(client);
  await client.logon({ heartBtInt: 30 });
});

const thisTest = usePerTestReports(() => client, () => rec, 5000);
const { er, live, fillsOf } = thisTest;

afterEach(async () => {
  await sim?.clearFaults().catch(() => undefined);
});

afterAll(async () => {
  client?.destroy();
  await killAllGateways();
  await killAllSimulators();
  if (gw) removeDir(gw.dir);
});

// ------------------------------------------------------------------------------------ helpers

function nos(clOrdId: string, f: NosFields, opts: Parameters<FixTestClient['send']>[2] = {}): void {
  client.send('D', nosFields(clOrdId, f), opts);
}

/** Sends an OrderStatusRequest and returns its reply (20=3). */
const status = (clOrdId: string, o: { symbol?: string; side?: '1' | '2' } = {}) => requestStatus(client, clOrdId, o);

/** Places a resting limit order and waits for its 150=0; returns that ER. */
async function resting(clOrdId: string, f: NosFields): Promise<FixMsg> {
  nos(clOrdId, f);
  return er(clOrdId, execType('0'));
}

async function venueOrder(orderId: string): Promise<SimOrderView> {
  const o = (await sim.orders()).find((x) => x.orderId === orderId);
  if (!o) throw new Error(`venue has no order ${orderId}`);
  return o;
}

function checkInvariants(): void {
  expectFixInvariants(rec, thisTest.recFrom);
}

// ------------------------------------------------------------------------------------ tests

describe('gateway end to end: FIX client → gateway process → HashKey simulator', () => {
  test('a limit order that does not cross rests: one 150=0/39=0 ER with the venue order id, and the venue has it', async () => {
    const before = (await sim.orders()).length;
    const px = nextBid();
    nos('NEW-1', { qty: '0.25', price: px });
    const ack = await er('NEW-1');
    expect(f(ack, 11, 14, 17, 20, 38, 39, 40, 44, 54, 55, 59, 150, 151, 6)).toEqual({
      11: 'NEW-1',
      14: '0',
      17: expect.any(String),
      20: '0',
      38: '0.25',
      39: '0',
      40: '2',
      44: px,
      54: '1',
      55: 'BTCUSDT',
      59: '1',
      150: '0',
      151: '0.25',
      6: '0',
    });
    expect(ack.has(32)).toBe(false);
    expect((await sim.orders()).length).toBe(before + 1);
    const v = await venueOrder(ack.get(37)!);
    expect(v).toMatchObject({ symbol: 'BTCUSDT', side: 'buy', qty: '0.25', price: px, status: 'new', resting: true, timeInForce: 'GTC' });
    await sleep(300);
    expect(live('NEW-1').map((m) => m.get(150))).toEqual(['0']);
    checkInvariants();
  });

  test('OrderStatusRequest: 20=3, 17=0, 150 = 39 = current status, with current 14/151/6 (new, partially filled, filled, unknown)', async () => {
    const px = nextBid();
    await resting('ST-1', { qty: '0.4', price: px });
    let s = await status('ST-1');
    expect(f(s, 11, 17, 20, 39, 150, 14, 151, 6, 38, 54, 55)).toEqual({
      11: 'ST-1',
      17: '0',
      20: '3',
      39: '0',
      150: '0',
      14: '0',
      151: '0.4',
      6: '0',
      38: '0.4',
      54: '1',
      55: 'BTCUSDT',
    });

    await sell('0.15', px);
    await er('ST-1', execType('1'));
    s = await status('ST-1');
    expect(f(s, 17, 20, 39, 150, 14, 151, 6)).toEqual({ 17: '0', 20: '3', 39: '1', 150: '1', 14: '0.15', 151: '0.25', 6: px });

    await sell('0.25', px);
    await er('ST-1', execType('2'));
    s = await status('ST-1');
    expect(f(s, 17, 20, 39, 150, 14, 151, 6)).toEqual({ 17: '0', 20: '3', 39: '2', 150: '2', 14: '0.4', 151: '0', 6: px });

    const unknown = await status('ST-NOPE');
    expect(f(unknown, 20, 17, 39, 150, 37, 103)).toEqual({ 20: '3', 17: '0', 39: '8', 150: '8', 37: 'NONE', 103: '5' });
    checkInvariants();
  });

  test('cancel: 150=6/39=6 then 150=4/39=4, both with 11 = the cancel ClOrdID and 41 = the original; the venue order is canceled', async () => {
    const ack = await resting('CX-1', { qty: '0.3', price: nextBid() });
    client.send('F', cancelFields('CX-1-C', 'CX-1'));
    const done = await er('CX-1-C', execType('4'));
    const reports = live('CX-1');
    expect(reports.map((m) => m.get(150))).toEqual(['0', '6', '4']);
    const pending = reports[1];
    expect(f(pending, 11, 41, 39, 150, 14, 151, 37)).toEqual({ 11: 'CX-1-C', 41: 'CX-1', 39: '6', 150: '6', 14: '0', 151: '0.3', 37: ack.get(37) });
    expect(f(done, 11, 41, 39, 150, 14, 151, 37)).toEqual({ 11: 'CX-1-C', 41: 'CX-1', 39: '4', 150: '4', 14: '0', 151: '0', 37: ack.get(37) });
    expect((await venueOrder(ack.get(37)!)).status).toBe('canceled');
    const s = await status('CX-1');
    expect(f(s, 39, 150, 14, 151)).toEqual({ 39: '4', 150: '4', 14: '0', 151: '0' });
    checkInvariants();
  });

  test('cancel whose reply is lost (503 before the venue acted, order still NEW there): the gateway re-sends it and confirms 150=4; a second F is never answered 102=3', async () => {
    const ack = await resting('CX-5', { qty: '0.2', price: nextBid() });
    await sim.armFaults({ kind: 'error5xxBefore', operation: 'cancel' });
    client.send('F', cancelFields('CX-5-C', 'CX-5'));
    await er('CX-5-C', execType('6'));
    const done = await er('CX-5-C', execType('4'), 10_000);
    expect(f(done, 11, 41, 39, 150)).toEqual({ 11: 'CX-5-C', 41: 'CX-5', 39: '4', 150: '4' });
    expect((await venueOrder(ack.get(37)!)).status).toBe('canceled');
    // A further cancel is "too late" (terminal), not "already pending".
    client.send('F', cancelFields('CX-5-D', 'CX-5'));
    const rej = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'CX-5-D', { from: thisTest.rxFrom, what: '35=9 for CX-5-D' });
    expect(rej.get(102)).toBe('0');
    checkInvariants();
  });

  test('partial fills then full fill of a resting order (external trades in three pieces): exact 32/31/14/151/6, CumQty = Σ LastShares, unique ExecIDs', async () => {
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
    const fills = fillsOf('FL-1');
    expect(fills).toHaveLength(3);
    const ids = live('FL-1').map((m) => m.get(17));
    expect(new Set(ids).size).toBe(ids.length);
    // Each fill ER names the venue's trade: ExecID F-<venue client order id>-<ticketId>.
    const v = await venueOrder(ack.get(37)!);
    expect(v.status).toBe('filled');
    expect(fills.map((m) => m.get(17)!.split('-').pop())).toEqual(v.fills.map((x) => x.tradeId));
    const s = await status('FL-1');
    expect(f(s, 39, 150, 14, 151, 6)).toEqual({ 39: '2', 150: '2', 14: '0.1', 151: '0', 6: px });
    checkInvariants();
  });

  test('partial fill then cancel: 150=4/39=4 with CumQty kept and LeavesQty 0', async () => {
    const px = nextBid();
    const ack = await resting('PC-1', { qty: '0.5', price: px });
    await sell('0.2', px);
    await er('PC-1', execType('1'));
    client.send('F', cancelFields('PC-1-C', 'PC-1'));
    const done = await er('PC-1-C', execType('4'));
    expect(f(done, 11, 41, 39, 14, 151, 6)).toEqual({ 11: 'PC-1-C', 41: 'PC-1', 39: '4', 14: '0.2', 151: '0', 6: px });
    expect(await venueOrder(ack.get(37)!)).toMatchObject({ status: 'canceled', cumQty: '0.2' });
    checkInvariants();
  });

  test('local rejects (no venue call): bad tick → 103=0, unknown symbol → 103=1, bad step → 103=0, each with a Text naming the problem', async () => {
    const before = (await sim.orders()).length;
    nos('LR-TICK', { qty: '0.1', price: '50000.001' });
    nos('LR-SYM', { qty: '1', price: '10', symbol: 'XYZUSDT' });
    nos('LR-STEP', { qty: '0.000015', price: '50000' });
    const tick = await er('LR-TICK');
    const sym = await er('LR-SYM');
    const step = await er('LR-STEP');
    for (const m of [tick, sym, step]) {
      expect(f(m, 150, 39, 14, 151, 20, 37)).toEqual({ 150: '8', 39: '8', 14: '0', 151: '0', 20: '0', 37: 'NONE' });
    }
    expect(tick.get(103)).toBe('0');
    expect(tick.get(58)).toMatch(/50000\.001.*tick size 0\.01/);
    expect(sym.get(103)).toBe('1');
    expect(sym.get(58)).toMatch(/Unknown symbol XYZUSDT/);
    expect(step.get(103)).toBe('0');
    expect(step.get(58)).toMatch(/0\.000015.*step size 0\.00001/);
    await sleep(200);
    expect((await sim.orders()).length).toBe(before);
    checkInvariants();
  });

  test('venue reject: post-only (18=6) that would take → 150=8/39=8 with the venue code -1139 and its text in 58', async () => {
    nos('VR-PO', { qty: '0.1', price: '60000.05', execInst: '6' });
    const rej = await er('VR-PO', execType('8'));
    expect(f(rej, 39, 14, 151, 103)).toEqual({ 39: '8', 14: '0', 151: '0', 103: '0' });
    expect(rej.get(58)).toBe('-1139: Order would immediately match and take');
    const v = (await sim.orders()).filter((o) => o.postOnly && o.price === '60000.05');
    expect(v).toHaveLength(1);
    expect(v[0].status).toBe('rejected');
    await sleep(300);
    expect(live('VR-PO').map((m) => m.get(150))).toEqual(['8']);
    // The same post-only order below the ask rests.
    const ok = await resting('VR-PO-OK', { qty: '0.1', price: nextBid(), execInst: '6' });
    expect((await venueOrder(ok.get(37)!)).postOnly).toBe(true);
    checkInvariants();
  });

  test('venue reject: FOK limit that cannot fill (venue -1142) → 150=8/39=8 with the venue code and text in 58', async () => {
    nos('VR-FOK', { qty: '0.1', price: '59000', tif: '4' });
    const rej = await er('VR-FOK');
    expect(f(rej, 150, 39, 14, 151, 59)).toEqual({ 150: '8', 39: '8', 14: '0', 151: '0', 59: '4' });
    expect(rej.get(58)).toBe('-1142: Order cannot be fully filled');
    await sleep(200);
    expect(live('VR-FOK').map((m) => m.get(150))).toEqual(['8']);
    checkInvariants();
  });

  test('cancel rejects: unknown order → 35=9 434=1 102=1 39=8 37=NONE; filled order → 102=0 (too late) with 39=2', async () => {
    client.send('F', cancelFields('CR-U-C', 'CR-UNKNOWN'));
    const unknown = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'CR-U-C', { from: thisTest.rxFrom });
    expect(f(unknown, 11, 41, 434, 102, 39, 37)).toEqual({ 11: 'CR-U-C', 41: 'CR-UNKNOWN', 434: '1', 102: '1', 39: '8', 37: 'NONE' });
    expect(unknown.get(58)).toMatch(/CR-UNKNOWN/);

    const px = nextBid();
    const ack = await resting('CR-F', { qty: '0.05', price: px });
    await sell('0.05', px);
    await er('CR-F', execType('2'));
    client.send('F', cancelFields('CR-F-C', 'CR-F'));
    const late = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'CR-F-C', { from: thisTest.rxFrom });
    expect(f(late, 11, 41, 434, 102, 39, 37)).toEqual({ 11: 'CR-F-C', 41: 'CR-F', 434: '1', 102: '0', 39: '2', 37: ack.get(37) });
    expect(late.get(58)).toMatch(/filled/i);
    checkInvariants();
  });

  test('cancel too late at the venue (its fill not seen yet): 35=9 434=1 102=0, then the fill is reported once', async () => {
    const px = nextBid();
    const ack = await resting('CR-V', { qty: '0.07', price: px });
    // The gateway does not hear about the fill: the venue swallows its stream event.
    await sim.armFaults({ kind: 'suppressStreamEvents', count: 1 });
    const made = await sell('0.07', px);
    expect(made.map((x) => x.orderId)).toEqual([ack.get(37)]);
    await sleep(100);
    expect(live('CR-V').map((m) => m.get(150))).toEqual(['0']);
    client.send('F', cancelFields('CR-V-C', 'CR-V'));
    const rej = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'CR-V-C', { from: thisTest.rxFrom });
    expect(f(rej, 11, 41, 434, 102)).toEqual({ 11: 'CR-V-C', 41: 'CR-V', 434: '1', 102: '0' });
    const fill = await er('CR-V', execType('2'));
    expect(f(fill, 32, 31, 14, 151, 39, 6)).toEqual({ 32: '0.07', 31: px, 14: '0.07', 151: '0', 39: '2', 6: px });
    await sleep(300);
    expect(fillsOf('CR-V')).toHaveLength(1);
    expect((await venueOrder(ack.get(37)!)).status).toBe('filled');
    expect((await status('CR-V')).get(39)).toBe('2');
    checkInvariants();
  });

  test('duplicate ClOrdID: 150=8/39=8 with 103=6; the original order and the venue are untouched', async () => {
    const px = nextBid();
    const ack = await resting('DUP-1', { qty: '0.2', price: px });
    const before = (await sim.orders()).length;
    nos('DUP-1', { qty: '0.3', price: nextBid() });
    const rej = await er('DUP-1', execType('8'));
    expect(f(rej, 11, 39, 103, 14, 151, 38)).toEqual({ 11: 'DUP-1', 39: '8', 103: '6', 14: '0', 151: '0', 38: '0.3' });
    expect(rej.get(58)).toMatch(/Duplicate ClOrdID DUP-1/);
    expect(rej.get(17)).not.toBe(ack.get(17));
    await sleep(200);
    expect((await sim.orders()).length).toBe(before);
    const s = await status('DUP-1');
    expect(f(s, 39, 150, 14, 151, 38, 44)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.2', 38: '0.2', 44: px });
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    checkInvariants();
  });

  test('PossDup resend of a NewOrderSingle (43=Y, 122 = original SendingTime, same ClOrdID) creates no second venue order', async () => {
    const px = nextBid();
    const first = client.send('D', nosFields('PD-1', { qty: '0.11', price: px }));
    const ack = await er('PD-1', execType('0'));
    const before = await sim.orders();
    const body = first.body.map((x) => [x.tag, x.value] as [number, string]);
    // (a) resent under a new MsgSeqNum: the session hands it to the application, which knows the ClOrdID;
    client.send('D', body, { possDup: true, origSendingTime: first.sendingTime });
    // (b) resent under its original MsgSeqNum, as an answer to a ResendRequest would be (below the
    //     expected MsgSeqNum: dropped by the session);
    client.send('D', body, { seqNum: first.seqNum, possDup: true, origSendingTime: first.sendingTime });
    // (c) PossResend (97=Y) under a new MsgSeqNum.
    client.send('D', body, { header: [[97, 'Y']] });
    const s = await status('PD-1');
    expect(f(s, 39, 150, 14, 151)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.11' });
    await sleep(300);
    const after = await sim.orders();
    expect(after.length).toBe(before.length);
    expect(after.filter((o) => o.price === px)).toHaveLength(1);
    expect(after.find((o) => o.price === px)!.orderId).toBe(ack.get(37));
    // No reply to the resends (no reject, no second ack), and the session stays up.
    expect(live('PD-1').map((m) => m.get(150))).toEqual(['0']);
    expect(client.received.slice(thisTest.rxFrom).filter((m) => ['3', 'j', '5', '9'].includes(m.msgType))).toEqual([]);
    expect(client.closedNow).toBe(false);

    // A PossDup NewOrderSingle the gateway has never seen is a new order: placed once.
    client.send('D', nosFields('PD-2', { qty: '0.12', price: nextBid() }), { possDup: true, origSendingTime: first.sendingTime });
    const ack2 = await er('PD-2', execType('0'));
    await sleep(200);
    expect((await sim.orders()).filter((o) => o.orderId === ack2.get(37))).toHaveLength(1);
    expect((await sim.orders()).length).toBe(before.length + 1);
    checkInvariants();
  });

  test('5xx after create (the venue placed the order, then answered 500): 150=A, then 150=0 through the query path; exactly one venue order', async () => {
    await sim.armFaults([
      { kind: 'error5xxAfter', operation: 'create' },
      // The stream's NEW is swallowed too: only the query path can tell the gateway the order exists.
      { kind: 'suppressStreamEvents', count: 1 },
    ]);
    const before = (await sim.orders()).length;
    const px = nextBid();
    nos('U5-1', { qty: '0.13', price: px });
    const ack = await er('U5-1', execType('0'));
    expect(live('U5-1').map((m) => m.get(150))).toEqual(['A', '0']);
    expect(f(live('U5-1')[0], 39, 14, 151, 37)).toEqual({ 39: 'A', 14: '0', 151: '0.13', 37: 'NONE' });
    expect(f(ack, 39, 14, 151)).toEqual({ 39: '0', 14: '0', 151: '0.13' });
    expect(await sim.pendingFaults()).toEqual([]);
    await sleep(300);
    expect((await sim.orders()).length).toBe(before + 1);
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    expect(live('U5-1')).toHaveLength(2);
    // It trades normally afterwards.
    await sell('0.13', px);
    const fill = await er('U5-1', execType('2'));
    expect(f(fill, 32, 31, 14, 151, 6)).toEqual({ 32: '0.13', 31: px, 14: '0.13', 151: '0', 6: px });
    expect((await status('U5-1')).get(39)).toBe('2');
    checkInvariants();
  });

  test('timeout after create (the venue placed the order and never answered): 150=A after the request timeout, then 150=0; exactly one venue order', async () => {
    await sim.armFaults([
      { kind: 'timeoutAfter', operation: 'create', holdMs: 20_000 },
      // The stream's NEW is swallowed too: only the query path can tell the gateway the order exists.
      { kind: 'suppressStreamEvents', count: 1 },
    ]);
    const before = (await sim.orders()).length;
    const sentAt = Date.now();
    nos('UT-1', { qty: '0.14', price: nextBid() });
    const ack = await er('UT-1', execType('0'), 15_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(4_500); // the adapter's 5 s request timeout
    expect(live('UT-1').map((m) => m.get(150))).toEqual(['A', '0']);
    expect((await sim.orders()).length).toBe(before + 1);
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    const s = await status('UT-1');
    expect(f(s, 39, 150, 14, 151)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.14' });
    checkInvariants();
  });

  test('a fill that arrives on the stream while the create request hangs is reported (New first), and nothing is re-reported when the request times out', async () => {
    await sim.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 20_000 });
    const px = nextBid();
    nos('UT-2', { qty: '0.16', price: px });
    // The NEW event on the stream acknowledges it before any REST reply.
    const ack = await er('UT-2', execType('0'));
    await sell('0.06', px);
    await er('UT-2', execType('1'));
    // After the adapter's request timeout the gateway resolves the outcome through the query path.
    await gw.waitForLog((e) => e.msg === 'create outcome unknown; resolving through the venue' && e.clOrdId === 'UT-2', 10_000);
    await sleep(300);
    expect(live('UT-2').map((m) => m.get(150))).toEqual(['0', '1']);
    const s = await status('UT-2');
    expect(f(s, 39, 150, 14, 151, 6)).toEqual({ 39: '1', 150: '1', 14: '0.06', 151: '0.1', 6: px });
    expect((await sim.orders()).filter((o) => o.orderId === ack.get(37))).toHaveLength(1);
    checkInvariants();
  });

  test('stream dropped mid-fill (one trade while disconnected): after the reconnect every fill is reported exactly once, CumQty correct', async () => {
    const px = nextBid();
    const ack = await resting('SD-1', { qty: '0.3', price: px });
    await sell('0.1', px);
    await waitUntil(client, () => fillsOf('SD-1').length === 1, 5000, 'first fill of SD-1');

    expect(await sim.dropStreams()).toBe(1);
    // While the gateway is disconnected (it reconnects after a back-off of at least 250 ms).
    await sell('0.12', px);
    expect(await sim.streams()).toBe(0);
    // Reconciliation after the reconnect reports the missed fill.
    await waitUntil(client, () => fillsOf('SD-1').length === 2, 8000, 'missed fill of SD-1 after reconnect');
    for (let i = 0; (await sim.streams()) < 1; i++) {
      if (i > 100) throw new Error('stream not reconnected');
      await sleep(50);
    }
    await sell('0.08', px);
    await waitUntil(client, () => fillsOf('SD-1').length === 3, 5000, 'last fill of SD-1');
    await sleep(400);
    const fills = fillsOf('SD-1');
    expect(fills.map((m) => f(m, 150, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 32: '0.1', 31: px, 14: '0.1', 151: '0.2', 6: px },
      { 150: '1', 32: '0.12', 31: px, 14: '0.22', 151: '0.08', 6: px },
      { 150: '2', 32: '0.08', 31: px, 14: '0.3', 151: '0', 6: px },
    ]);
    const v = await venueOrder(ack.get(37)!);
    expect(fills.map((m) => m.get(17)!.split('-').pop())).toEqual(v.fills.map((x) => x.tradeId));
    const ids = live('SD-1').map((m) => m.get(17));
    expect(new Set(ids).size).toBe(ids.length);
    checkInvariants();
  });

  test('a crossing order fills at several price levels: one fill ER per venue trade at its own LastPx, AvgPx exact (60000.018)', async () => {
    // The simulator quotes asks at 60000.01, 60000.02, 60000.03 ... with 1 BTC per level.
    nos('FL-2', { qty: '2.5', price: '60000.03' });
    const last = await er('FL-2', execType('2'));
    await sleep(300);
    const v = await venueOrder(last.get(37)!);
    expect(v.fills.map((x) => [x.qty, x.price])).toEqual([['1', '60000.01'], ['1', '60000.02'], ['0.5', '60000.03']]);
    expect(f(last, 39, 14, 151, 6)).toEqual({ 39: '2', 14: '2.5', 151: '0', 6: '60000.018' });
    expect(fillsOf('FL-2').map((m) => [m.get(32), m.get(31), m.get(6)])).toEqual([
      ['1', '60000.01', '60000.01'], ['1', '60000.02', '60000.015'], ['0.5', '60000.03', '60000.018'],
    ]);
    expect(fillsOf('FL-2').map((m) => m.get(17)!.split('-').pop())).toEqual(v.fills.map((x) => x.tradeId));
    checkInvariants();
  });

  test('the FIX invariants hold over every ExecutionReport of the session', () => {
    const r = expectFixInvariants(rec, 0);
    expect(r.executionReports).toBeGreaterThan(40);
  });
});
