// End to end on Zerocap: a FIX 4.2 client over TCP → the gateway process (Venue=zerocap,
// VenueEnvironment=simulator) → the Zerocap simulator as its own child (`simulate --venue zerocap`)
// over HTTP and its WS order stream on loopback. Zerocap has no time in force (every order is
// fill-or-kill) and no cancel endpoint: only 59=4 is accepted, and every OrderCancelRequest is
// refused without touching the order. Orders rest only when the simulator is told to through
// /__sim/config (`restNextOrders`), which is how the tests reach a live order. The venue's own view
// of every order is read through /__sim/orders. Every test ends with the FIX ExecutionReport
// invariants over its messages.
import { FixMsg, FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';
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
  nosFields,
  reportsFor,
  startSimulatorProcess,
  statusFields,
  waitForMessage,
  waitUntil,
} from '../support/gateway-e2e';

jest.setTimeout(40_000);

const SYMBOL = 'BTC/USD';
let simProc: SimulatorProcess;
let gw: GatewayProcess;
let client: FixTestClient;
let rec: FixRecorder;
let recFrom = 0;
let rxFrom = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Resting buys stay on the book after their test. Each test's buy is priced above every earlier
// one (and below the simulator's best bid, 59999.99), and external sells are limited to that
// price: a sell can only reach the order of its own test.
let lastBid = 40000;
function nextBid(): string {
  lastBid += 250.25;
  if (lastBid >= 59990) throw new Error('out of bid prices');
  return lastBid.toFixed(2).replace(/\.?0+$/, '');
}

function sell(qty: string, price: string) {
  return simProc.control.trade({ symbol: SYMBOL, side: 'sell', qty, price });
}

beforeAll(async () => {
  simProc = await startSimulatorProcess({ venue: 'zerocap' });
  // 1 BTC per price level: a crossing FOK of 2.5 takes three levels (three trades, three prices).
  await simProc.control.configure({ liquidity: { [SYMBOL]: { levelQty: '1' } } });
  gw = await startGatewayProcess({ config: gatewayConfig({ Venue: 'zerocap', VenueRestUrl: simProc.restUrl, VenueWsUrl: simProc.wsUrl }) });
  await gw.waitForLog((e) => e.msg === 'venue ready', 10_000);
  for (let i = 0; (await simProc.control.streams()) < 1; i++) {
    if (i > 100) throw new Error(`gateway never connected its stream\n${gw.describe()}`);
    await sleep(50);
  }
  client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
  rec = new FixRecorder(client);
  autoAnswerResendRequests(client);
  await client.logon({ heartBtInt: 30 });
});

beforeEach(() => {
  recFrom = rec.messages.length;
  rxFrom = client.received.length;
});

afterEach(async () => {
  await simProc?.control.clearFaults().catch(() => undefined);
  await simProc?.control.configure({ restNextOrders: 0, rejectNextOrders: 0 }).catch(() => undefined);
});

afterAll(async () => {
  client?.destroy();
  await killAllGateways();
  await simProc?.stop().catch(() => undefined);
  await killAllSimulators();
  if (gw) removeDir(gw.dir);
});

// ------------------------------------------------------------------------------------ helpers

function nos(clOrdId: string, f: Partial<NosFields>, opts: Parameters<FixTestClient['send']>[2] = {}) {
  return client.send('D', nosFields(clOrdId, { symbol: SYMBOL, qty: '0.01', tif: '4', ...f }), opts);
}

function er(clOrdId: string, pred: (m: FixMsg) => boolean = () => true, timeoutMs = 8000): Promise<FixMsg> {
  return waitForMessage(client, (m) => m.msgType === '8' && (m.get(11) === clOrdId || m.get(41) === clOrdId) && pred(m), {
    from: rxFrom,
    timeoutMs,
    what: `ER for ${clOrdId}`,
  });
}

const execType = (t: string) => (m: FixMsg) => m.get(150) === t && m.get(20) === '0';

function live(clOrdId: string): FixMsg[] {
  return reportsFor(client, clOrdId, rxFrom).filter((m) => m.get(20) === '0');
}

function fillsOf(clOrdId: string): FixMsg[] {
  return live(clOrdId).filter((m) => m.get(150) === '1' || m.get(150) === '2');
}

async function status(clOrdId: string, o: { symbol?: string; side?: '1' | '2' } = {}): Promise<FixMsg> {
  const from = client.received.length;
  client.send('H', statusFields(clOrdId, { symbol: SYMBOL, ...o }));
  return waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === clOrdId && m.get(20) === '3', {
    from,
    what: `status reply for ${clOrdId}`,
  });
}

/** Tells the simulator to keep the next order open (Zerocap would kill it), then sends it and waits for 150=0. */
async function resting(clOrdId: string, f: Partial<NosFields>): Promise<FixMsg> {
  await simProc.control.configure({ restNextOrders: 1 });
  nos(clOrdId, f);
  return er(clOrdId, execType('0'));
}

async function venueOrders(): Promise<SimOrderView[]> {
  return simProc.control.orders({ symbol: SYMBOL });
}

/** The venue's order at a test's own price (every test uses its own). */
async function venueOrderAt(price: string): Promise<SimOrderView> {
  const list = (await venueOrders()).filter((o) => o.price === price);
  if (list.length !== 1) throw new Error(`venue has ${list.length} orders at ${price}`);
  return list[0];
}

function f(m: FixMsg, ...tags: number[]): Record<number, string | undefined> {
  const out: Record<number, string | undefined> = {};
  for (const t of tags) out[t] = m.get(t);
  return out;
}

function checkInvariants(): void {
  expectFixInvariants(rec, recFrom);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ------------------------------------------------------------------------------------ tests

describe('Zerocap end to end: FIX client → gateway process → Zerocap simulator (fill-or-kill, no cancel)', () => {
  test('a FOK that fills: 150=0 then 150=2 at the venue price, 55=BTC/USD, OrderID the venue UUID; status 39=2', async () => {
    const before = (await venueOrders()).length;
    nos('ZC-FOK-1', { qty: '0.25', price: '60000.01' });
    const fill = await er('ZC-FOK-1', execType('2'));
    expect(live('ZC-FOK-1').map((m) => m.get(150))).toEqual(['0', '2']);
    const ack = live('ZC-FOK-1')[0];
    expect(f(ack, 11, 14, 38, 39, 40, 44, 54, 55, 59, 151)).toEqual({ 11: 'ZC-FOK-1', 14: '0', 38: '0.25', 39: '0', 40: '2', 44: '60000.01', 54: '1', 55: 'BTC/USD', 59: '4', 151: '0.25' });
    expect(fill.get(37)).toMatch(UUID);
    expect(ack.get(37)).toBe(fill.get(37));
    expect(f(fill, 39, 32, 31, 14, 151, 6, 55)).toEqual({ 39: '2', 32: '0.25', 31: '60000.01', 14: '0.25', 151: '0', 6: '60000.01', 55: 'BTC/USD' });
    const after = await venueOrders();
    expect(after.length).toBe(before + 1);
    expect(after[after.length - 1]).toMatchObject({ side: 'buy', qty: '0.25', price: '60000.01', status: 'filled', cumQty: '0.25' });
    const s = await status('ZC-FOK-1');
    expect(f(s, 17, 20, 39, 150, 14, 151, 6, 37)).toEqual({ 17: '0', 20: '3', 39: '2', 150: '2', 14: '0.25', 151: '0', 6: '60000.01', 37: fill.get(37) });
    await sleep(500);
    expect(fillsOf('ZC-FOK-1')).toHaveLength(1);
    checkInvariants();
  });

  test('a FOK that takes three price levels: one fill ER per venue trade at its own LastPx, AvgPx exact (60000.018)', async () => {
    nos('ZC-FOK-3', { qty: '2.5', price: '60000.03' });
    const last = await er('ZC-FOK-3', execType('2'));
    await sleep(500);
    const v = (await venueOrders()).find((o) => o.qty === '2.5' && o.price === '60000.03')!;
    expect(v.fills.map((x) => [x.qty, x.price])).toEqual([['1', '60000.01'], ['1', '60000.02'], ['0.5', '60000.03']]);
    expect(f(last, 39, 14, 151, 6)).toEqual({ 39: '2', 14: '2.5', 151: '0', 6: '60000.018' });
    expect(fillsOf('ZC-FOK-3').map((m) => [m.get(150), m.get(32), m.get(31), m.get(14), m.get(6)])).toEqual([
      ['1', '1', '60000.01', '1', '60000.01'],
      ['1', '1', '60000.02', '2', '60000.015'],
      ['2', '0.5', '60000.03', '2.5', '60000.018'],
    ]);
    expect(live('ZC-FOK-3').map((m) => m.get(150))).toEqual(['0', '1', '1', '2']);
    const ids = live('ZC-FOK-3').map((m) => m.get(17));
    expect(new Set(ids).size).toBe(ids.length);
    checkInvariants();
  });

  test('a FOK the venue cannot fill at its price is killed: 150=C 39=C, nothing filled, the venue order closed unfilled', async () => {
    const px = nextBid();
    nos('ZC-KILL-1', { qty: '0.1', price: px });
    const done = await er('ZC-KILL-1', (m) => m.get(20) === '0' && m.get(150) !== '0');
    expect(f(done, 150, 39, 14, 151)).toEqual({ 150: 'C', 39: 'C', 14: '0', 151: '0' });
    expect(live('ZC-KILL-1').filter((m) => m.get(150) === '4')).toHaveLength(0);
    const v = await venueOrderAt(px);
    expect(v).toMatchObject({ cumQty: '0', resting: false });
    expect(v.status).not.toBe('new');
    expect(f(await status('ZC-KILL-1'), 39, 150, 14)).toEqual({ 39: 'C', 150: 'C', 14: '0' });
    await sleep(500);
    expect(live('ZC-KILL-1').filter((m) => m.get(150) === 'C')).toHaveLength(1);
    checkInvariants();
  });

  test('an order the venue keeps open: 150=0, status 39=0, then three external trades → three fill ERs from the stream, exact CumQty/AvgPx', async () => {
    const px = nextBid();
    const ack = await resting('ZC-REST-1', { qty: '0.1', price: px });
    expect(ack.get(37)).toMatch(UUID);
    expect(await venueOrderAt(px)).toMatchObject({ status: 'new', resting: true, qty: '0.1' });
    let s = await status('ZC-REST-1');
    expect(f(s, 20, 39, 150, 14, 151, 38, 55)).toEqual({ 20: '3', 39: '0', 150: '0', 14: '0', 151: '0.1', 38: '0.1', 55: 'BTC/USD' });
    const pieces = ['0.03', '0.045', '0.025'];
    const expected = [
      { 150: '1', 39: '1', 32: '0.03', 31: px, 14: '0.03', 151: '0.07', 6: px },
      { 150: '1', 39: '1', 32: '0.045', 31: px, 14: '0.075', 151: '0.025', 6: px },
      { 150: '2', 39: '2', 32: '0.025', 31: px, 14: '0.1', 151: '0', 6: px },
    ];
    for (let i = 0; i < pieces.length; i++) {
      const made = await sell(pieces[i], px);
      expect(made.map((x) => x.qty)).toEqual([pieces[i]]);
      await waitUntil(client, () => fillsOf('ZC-REST-1').length > i, 8000, `fill ${i + 1} of ZC-REST-1`);
      expect(f(fillsOf('ZC-REST-1')[i], 150, 39, 32, 31, 14, 151, 6)).toEqual(expected[i]);
    }
    s = await status('ZC-REST-1');
    expect(f(s, 39, 150, 14, 151, 6)).toEqual({ 39: '2', 150: '2', 14: '0.1', 151: '0', 6: px });
    await sleep(500);
    expect(fillsOf('ZC-REST-1')).toHaveLength(3);
    expect((await venueOrderAt(px)).status).toBe('filled');
    checkInvariants();
  });

  test('cancel is refused (no cancel endpoint): 35=9 434=1 102=2 with a Text, the open order untouched and still filled later; on a filled order 102=0', async () => {
    const px = nextBid();
    const ack = await resting('ZC-CX-1', { qty: '0.2', price: px });
    client.send('F', cancelFields('ZC-CX-1-C', 'ZC-CX-1', { symbol: SYMBOL, qty: '0.2' }));
    const rej = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'ZC-CX-1-C', { from: rxFrom });
    expect(f(rej, 11, 41, 434, 102, 39, 37)).toEqual({ 11: 'ZC-CX-1-C', 41: 'ZC-CX-1', 434: '1', 102: '2', 39: '0', 37: ack.get(37) });
    expect(rej.get(58)).toMatch(/venue cannot cancel/i);
    await sleep(300);
    expect(await venueOrderAt(px)).toMatchObject({ status: 'new', resting: true, cumQty: '0' });
    expect(f(await status('ZC-CX-1'), 39, 150, 151)).toEqual({ 39: '0', 150: '0', 151: '0.2' });

    await sell('0.2', px);
    const fill = await er('ZC-CX-1', execType('2'));
    expect(f(fill, 11, 32, 31, 14, 151)).toEqual({ 11: 'ZC-CX-1', 32: '0.2', 31: px, 14: '0.2', 151: '0' });
    client.send('F', cancelFields('ZC-CX-1-C2', 'ZC-CX-1', { symbol: SYMBOL, qty: '0.2' }));
    const late = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'ZC-CX-1-C2', { from: rxFrom });
    expect(f(late, 11, 41, 434, 102, 39, 37)).toEqual({ 11: 'ZC-CX-1-C2', 41: 'ZC-CX-1', 434: '1', 102: '0', 39: '2', 37: ack.get(37) });
    await sleep(300);
    expect(reportsFor(client, 'ZC-CX-1', rxFrom).filter((m) => m.get(150) === '4' || m.get(150) === '6')).toHaveLength(0);
    expect(client.received.slice(rxFrom).filter((m) => m.msgType === '8' && m.get(150) === '4')).toHaveLength(0);
    checkInvariants();
  });

  test('local rejects (no venue call): 59=1 GTC and a Day order → 150=8 103=0, Text says the venue supports FOK only', async () => {
    const before = (await simProc.control.orders()).length;
    nos('ZC-LR-GTC', { qty: '0.1', price: '60000.01', tif: '1' });
    nos('ZC-LR-DAY', { qty: '0.1', price: '60000.01', tif: null });
    const gtc = await er('ZC-LR-GTC');
    const day = await er('ZC-LR-DAY');
    for (const m of [gtc, day]) {
      expect(f(m, 150, 39, 14, 151, 20, 37, 103)).toEqual({ 150: '8', 39: '8', 14: '0', 151: '0', 20: '0', 37: 'NONE', 103: '0' });
      expect(m.get(58)).toMatch(/supported: FOK/);
    }
    expect(gtc.get(58)).toMatch(/TimeInForce 1 \(GTC\) not supported by the venue/);
    await sleep(200);
    expect((await simProc.control.orders()).length).toBe(before);
    checkInvariants();
  });

  test('venue reject (the venue risk check answers 400 "Insufficient balance", told through /__sim/config): 150=8 39=8 with the venue text in 58, nothing placed', async () => {
    const before = (await simProc.control.orders()).length;
    await simProc.control.configure({ rejectNextOrders: 1 });
    nos('ZC-VR-1', { qty: '0.1', price: '60000.01' });
    const rej = await er('ZC-VR-1', execType('8'));
    expect(f(rej, 39, 14, 151, 55, 37)).toEqual({ 39: '8', 14: '0', 151: '0', 55: 'BTC/USD', 37: 'NONE' });
    expect(rej.get(103)).toBe('3');
    expect(rej.get(58)).toMatch(/Insufficient balance/);
    await sleep(300);
    expect(live('ZC-VR-1').map((m) => m.get(150))).toEqual(['8']);
    expect((await simProc.control.orders()).length).toBe(before);
    checkInvariants();
  });

  test('unknown ClOrdID status → 103=5; duplicate ClOrdID → 150=8 103=6, the original and the venue untouched', async () => {
    const unknown = await status('ZC-ST-NOPE');
    expect(f(unknown, 20, 17, 39, 150, 37, 103)).toEqual({ 20: '3', 17: '0', 39: '8', 150: '8', 37: 'NONE', 103: '5' });

    const px = nextBid();
    const ack = await resting('ZC-DUP-1', { qty: '0.2', price: px });
    const before = (await simProc.control.orders()).length;
    nos('ZC-DUP-1', { qty: '0.3', price: '60000.01' });
    const rej = await er('ZC-DUP-1', execType('8'));
    expect(f(rej, 11, 39, 103, 14, 151, 38)).toEqual({ 11: 'ZC-DUP-1', 39: '8', 103: '6', 14: '0', 151: '0', 38: '0.3' });
    expect(rej.get(58)).toMatch(/Duplicate ClOrdID ZC-DUP-1/);
    await sleep(200);
    expect((await simProc.control.orders()).length).toBe(before);
    expect(f(await status('ZC-DUP-1'), 39, 150, 14, 151, 38, 44, 37)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.2', 38: '0.2', 44: px, 37: ack.get(37) });
    expect((await venueOrderAt(px)).status).toBe('new');
    checkInvariants();
  });

  test('PossDup resend of a NewOrderSingle (new MsgSeqNum, original MsgSeqNum, PossResend) creates no second venue order', async () => {
    const px = nextBid();
    await simProc.control.configure({ restNextOrders: 1 });
    const first = nos('ZC-PD-1', { qty: '0.11', price: px });
    await er('ZC-PD-1', execType('0'));
    const before = await simProc.control.orders();
    const body = first.body.map((x) => [x.tag, x.value] as [number, string]);
    client.send('D', body, { possDup: true, origSendingTime: first.sendingTime });
    client.send('D', body, { seqNum: first.seqNum, possDup: true, origSendingTime: first.sendingTime });
    client.send('D', body, { header: [[97, 'Y']] });
    const s = await status('ZC-PD-1');
    expect(f(s, 39, 150, 14, 151)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.11' });
    await sleep(500);
    const after = await simProc.control.orders();
    expect(after.length).toBe(before.length);
    expect(after.filter((o) => o.price === px)).toHaveLength(1);
    expect(live('ZC-PD-1').map((m) => m.get(150))).toEqual(['0']);
    expect(client.received.slice(rxFrom).filter((m) => ['3', 'j', '5', '9'].includes(m.msgType))).toEqual([]);
    expect(client.closedNow).toBe(false);
    checkInvariants();
  });

  test('5xx after create (the venue filled the FOK, then answered 500): 150=A, then 150=0 and 150=2 found through the venue; exactly one venue order, one fill ER', async () => {
    await simProc.control.armFaults({ kind: 'error5xxAfter', operation: 'create' });
    const before = (await simProc.control.orders()).length;
    nos('ZC-U5-1', { qty: '0.13', price: '60000.01' });
    const fill = await er('ZC-U5-1', execType('2'), 15_000);
    expect(f(fill, 39, 32, 31, 14, 151, 6)).toEqual({ 39: '2', 32: '0.13', 31: '60000.01', 14: '0.13', 151: '0', 6: '60000.01' });
    expect(fill.get(37)).toMatch(UUID);
    expect(await simProc.control.pendingFaults()).toEqual([]);
    const after = await simProc.control.orders();
    expect(after.length).toBe(before + 1);
    expect(after[after.length - 1]).toMatchObject({ qty: '0.13', status: 'filled' });
    await sleep(1000);
    expect(fillsOf('ZC-U5-1')).toHaveLength(1);
    expect(live('ZC-U5-1').map((m) => m.get(150))).toEqual(['A', '0', '2']);
    expect(live('ZC-U5-1').filter((m) => m.get(150) === '8')).toHaveLength(0);
    expect(f(await status('ZC-U5-1'), 39, 14)).toEqual({ 39: '2', 14: '0.13' });
    checkInvariants();
  });

  test('timeout after create (the venue filled the FOK and never answered): 150=A, then 150=0 and 150=2 found through the venue; exactly one venue order, one fill ER', async () => {
    await simProc.control.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 20_000 });
    const before = (await simProc.control.orders()).length;
    nos('ZC-UT-1', { qty: '0.14', price: '60000.01' });
    const fill = await er('ZC-UT-1', execType('2'), 20_000);
    expect(f(fill, 39, 32, 31, 14, 151, 6)).toEqual({ 39: '2', 32: '0.14', 31: '60000.01', 14: '0.14', 151: '0', 6: '60000.01' });
    const after = await simProc.control.orders();
    expect(after.length).toBe(before + 1);
    expect(after[after.length - 1]).toMatchObject({ qty: '0.14', status: 'filled' });
    await sleep(1000);
    expect(fillsOf('ZC-UT-1')).toHaveLength(1);
    expect(live('ZC-UT-1').map((m) => m.get(150))).toEqual(['A', '0', '2']);
    expect(live('ZC-UT-1').filter((m) => m.get(150) === '8')).toHaveLength(0);
    checkInvariants();
  });

  test('5xx after create of an order the venue keeps open: 150=A then 150=0, one venue order, and a later trade fills it once', async () => {
    await simProc.control.armFaults({ kind: 'error5xxAfter', operation: 'create' });
    const px = nextBid();
    await simProc.control.configure({ restNextOrders: 1 });
    const before = (await simProc.control.orders()).length;
    nos('ZC-U5-2', { qty: '0.15', price: px });
    const ack = await er('ZC-U5-2', execType('0'), 15_000);
    expect(ack.get(37)).toMatch(UUID);
    expect((await simProc.control.orders()).length).toBe(before + 1);
    await sell('0.15', px);
    const fill = await er('ZC-U5-2', execType('2'));
    expect(f(fill, 32, 31, 14, 151, 37)).toEqual({ 32: '0.15', 31: px, 14: '0.15', 151: '0', 37: ack.get(37) });
    await sleep(500);
    expect(fillsOf('ZC-U5-2')).toHaveLength(1);
    expect(live('ZC-U5-2').map((m) => m.get(150))).toEqual(['A', '0', '2']);
    checkInvariants();
  });

  test('the FIX invariants hold over every ExecutionReport of the session', () => {
    const r = expectFixInvariants(rec, 0);
    expect(r.executionReports).toBeGreaterThan(20);
  });
});
