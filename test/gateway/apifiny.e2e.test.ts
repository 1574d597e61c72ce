// Apifiny end to end: a FIX 4.2 client over TCP → the gateway process (session GATEWAY <- QFCLIENT,
// Venue=apifiny, VenueEnvironment=simulator) → the Apifiny simulator as its own child process
// (`node dist/main.js simulate --venue apifiny`), JWT-signed REST and the order WebSocket on
// loopback. The venue's own view of every order is read through the simulator's /__sim/ API;
// faults are armed there too. The main suite uses the exchange-in-path URLs (`…/ac/v2/BINANCE`),
// the crash suite the co-located style (`…/ac/v2` + VenueExDestination=BINANCE).
//
// Apifiny specifics checked here: the orderId the gateway allocates is the venue's format
// (<account digits><session digits><13-digit ms><3 digits>) and is FIX OrderID (37); PART_FILLED
// is final (150=C / 150=4 with CumQty > 0); a cancel while PENDING_SUBMIT is carried out once the
// order is submitted; fills carry no id and are counted by the rise of the cumulative quantity;
// TIFs 1/3 and post-only 18=6, 59=4 refused; ExDestination (100) must be the session's exchange.
import { FixMsg, FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';
import {
  CLIENT_COMP_ID,
  FixRecorder,
  GATEWAY_COMP_ID,
  NosFields,
  SimOrderView,
  SimulatorProcess,
  VenueE2e,
  autoAnswerResendRequests,
  cancelFields,
  expectFixInvariants,
  gatewayConfig,
  killAllSimulators,
  logonAndSync,
  nosFields,
  startSimulatorProcess,
  startVenueE2e,
  statusFields,
  waitForMessage,
  waitUntil,
} from '../support/gateway-e2e';
import { bidLadder, execType, usePerTestReports } from '../support/per-test-reports';
import { fieldsOf as f, requestStatus } from '../support/venue-crash-suite';

jest.setTimeout(40_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  await killAllGateways();
  await killAllSimulators();
});

describe('Apifiny: FIX client → gateway child → Apifiny simulator child', () => {
  let e: VenueE2e;
  let client: FixTestClient;

  // Resting buys stay on the book; each test's bid is above every earlier one (and below the best
  // ask, 60000.01), and external sells are limited to it: a trade reaches only its test's order.
  const nextBid = bidLadder();

  beforeAll(async () => {
    e = await startVenueE2e('apifiny', { streams: 1 });
    client = e.client;
  });
  const thisTest = usePerTestReports(() => client, () => e.rec, 8000);
  const { er, live, fillsOf } = thisTest;
  afterEach(async () => {
    await e?.control.clearFaults().catch(() => undefined);
    await e?.control.configure({ pendingSubmitMs: 20 }).catch(() => undefined);
  });
  afterAll(async () => {
    await e?.stop();
  });

  const nos = (cl: string, fields: Partial<NosFields>, opts: Parameters<FixTestClient['send']>[2] = {}) => client.send('D', e.nos(cl, fields), opts);
  const sell = (qty: string, price: string) => e.control.trade({ symbol: 'BTCUSDT', side: 'sell', qty, price });
  /**
   * ExecTypes of an order's live reports after its Pending New: a create Apifiny answers
   * PENDING_SUBMIT is 150=A first (unless the SUBMITTED push won the race), and never again.
   */
  const afterPendingNew = (cl: string) => {
    const kinds = live(cl).map((m) => m.get(150));
    expect(kinds.slice(1).includes('A')).toBe(false);
    return kinds[0] === 'A' ? kinds.slice(1) : kinds;
  };
  const cancelReject = (cl: string) => waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === cl, { from: thisTest.rxFrom, timeoutMs: 10_000, what: `35=9 for ${cl}` });
  const status = (cl: string) => requestStatus(client, cl, {});
  async function resting(cl: string, fields: Partial<NosFields>): Promise<FixMsg> {
    nos(cl, fields);
    return er(cl, execType('0'));
  }
  async function venueOrder(orderId: string): Promise<SimOrderView> {
    const o = (await e.control.orders()).find((x) => x.clientOrderId === orderId);
    if (!o) throw new Error(`venue has no order ${orderId}`);
    return o;
  }
  const checkInvariants = () => expectFixInvariants(e.rec, thisTest.recFrom);

  test('a limit order that does not cross rests: 150=0 with OrderID = the Apifiny orderId the gateway allocated; the venue has it GTC', async () => {
    const px = nextBid();
    const ack = await resting('AP-NEW', { qty: '0.25', price: px });
    expect(f(ack, 11, 14, 20, 38, 39, 44, 54, 55, 59, 150, 151, 6)).toEqual({
      11: 'AP-NEW', 14: '0', 20: '0', 38: '0.25', 39: '0', 44: px, 54: '1', 55: 'BTCUSDT', 59: '1', 150: '0', 151: '0.25', 6: '0',
    });
    // <account digits 00000001><session digits><13-digit ms><3 digits>, all digits, ≤ 64.
    const orderId = ack.get(37)!;
    expect(orderId).toMatch(/^00000001\d*\d{16}$/);
    expect(orderId.length).toBeLessThanOrEqual(64);
    const ms = Number(orderId.slice(-16, -3));
    expect(Math.abs(ms - Date.now())).toBeLessThan(60_000);
    expect(await venueOrder(orderId)).toMatchObject({ symbol: 'BTCUSDT', side: 'buy', qty: '0.25', price: px, status: 'new', timeInForce: 'GTC', postOnly: false });
    await sleep(200);
    expect(afterPendingNew('AP-NEW')).toEqual(['0']);
    checkInvariants();
  });

  test('OrderStatusRequest: new, partially filled, filled; an unknown ClOrdID gets 150=8 39=8 103=5', async () => {
    const px = nextBid();
    await resting('AP-ST', { qty: '0.4', price: px });
    expect(f(await status('AP-ST'), 20, 17, 39, 150, 14, 151)).toEqual({ 20: '3', 17: '0', 39: '0', 150: '0', 14: '0', 151: '0.4' });
    await sell('0.15', px);
    await er('AP-ST', execType('1'));
    expect(f(await status('AP-ST'), 39, 150, 14, 151, 6)).toEqual({ 39: '1', 150: '1', 14: '0.15', 151: '0.25', 6: px });
    await sell('0.25', px);
    await er('AP-ST', execType('2'));
    expect(f(await status('AP-ST'), 39, 150, 14, 151, 6)).toEqual({ 39: '2', 150: '2', 14: '0.4', 151: '0', 6: px });
    const unknown = await status('AP-NOPE');
    expect(f(unknown, 20, 39, 150, 37, 103)).toEqual({ 20: '3', 39: '8', 150: '8', 37: 'NONE', 103: '5' });
    checkInvariants();
  });

  test('a resting order filled by three external trades: one ER per push (fills counted by the rise of the cumulative quantity), exact 32/31/14/151/6', async () => {
    const px = nextBid();
    const ack = await resting('AP-FL', { qty: '0.1', price: px });
    const pieces = ['0.03', '0.045', '0.025'];
    for (let i = 0; i < pieces.length; i++) {
      await sell(pieces[i], px);
      await waitUntil(client, () => fillsOf('AP-FL').length > i, 5000, `fill ${i + 1}`);
    }
    await sleep(300);
    expect(fillsOf('AP-FL').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '0.03', 31: px, 14: '0.03', 151: '0.07', 6: px },
      { 150: '1', 39: '1', 32: '0.045', 31: px, 14: '0.075', 151: '0.025', 6: px },
      { 150: '2', 39: '2', 32: '0.025', 31: px, 14: '0.1', 151: '0', 6: px },
    ]);
    const ids = live('AP-FL').map((m) => m.get(17));
    expect(new Set(ids).size).toBe(ids.length);
    expect(await venueOrder(ack.get(37)!)).toMatchObject({ status: 'filled', cumQty: '0.1' });
    checkInvariants();
  });

  test('a crossing order fills at three price levels: one fill ER each at its own LastPx, AvgPx exact', async () => {
    // The simulator's asks: 60000.01, 60000.02, 60000.03 ... with 1 BTC per level.
    nos('AP-X3', { qty: '2.5', price: '60000.03' });
    const last = await er('AP-X3', execType('2'));
    await sleep(300);
    const v = await venueOrder(last.get(37)!);
    const fills = fillsOf('AP-X3');
    expect(fills.map((m) => [m.get(32), m.get(31)])).toEqual(v.fills.map((x) => [x.qty, x.price]));
    expect(fills).toHaveLength(3);
    // AvgPx after each fill = exact notional / CumQty.
    let qty = 0n;
    let notional = 0n; // in 1e-8 units
    const units = (s: string) => BigInt(Math.round(Number(s) * 1e8));
    for (const m of fills) {
      qty += units(m.get(32)!);
      notional += (units(m.get(32)!) * units(m.get(31)!)) / 100_000_000n;
      expect(units(m.get(6)!)).toBe((notional * 100_000_000n) / qty);
    }
    expect(f(last, 39, 14, 151)).toEqual({ 39: '2', 14: '2.5', 151: '0' });
    expect(last.get(6)).toBe(v.avgPrice);
    checkInvariants();
  });

  test('rejects without a venue order: bad tick 103=0, unknown symbol 103=1, FOK 59=4 (Apifiny has none), ExDestination of another exchange, a market buy; each with a Text', async () => {
    const before = (await e.control.orders()).length;
    nos('AP-LR-TICK', { qty: '0.1', price: '50000.001' });
    nos('AP-LR-SYM', { qty: '1', price: '10', symbol: 'XYZUSDT' });
    nos('AP-LR-FOK', { qty: '0.1', price: '50000', tif: '4' });
    client.send('D', [...e.nos('AP-LR-DEST', { qty: '0.1', price: '50000' }), [100, 'HUOBI']]);
    const [tick, sym, fok, dest] = await Promise.all(['AP-LR-TICK', 'AP-LR-SYM', 'AP-LR-FOK', 'AP-LR-DEST'].map((cl) => er(cl)));
    for (const m of [tick, sym, fok, dest]) expect(f(m, 150, 39, 14, 151, 37)).toEqual({ 150: '8', 39: '8', 14: '0', 151: '0', 37: 'NONE' });
    expect([tick.get(103), sym.get(103), fok.get(103), dest.get(103)]).toEqual(['0', '1', '0', '0']);
    expect(tick.get(58)).toMatch(/tick size/);
    expect(sym.get(58)).toMatch(/Unknown symbol XYZUSDT/);
    expect(fok.get(58)).toBe('TimeInForce 4 (FOK) not supported by the venue for limit orders (supported: GTC, IOC)');
    expect(dest.get(58)).toBe('ExDestination HUOBI is not available: this session trades on BINANCE');
    // A market buy: Apifiny sizes it in quote currency (total), which a FIX OrderQty is not.
    client.send('D', e.nos('AP-LR-MKT', { qty: '0.1', ordType: '1', tif: '3' }));
    const mkt = await er('AP-LR-MKT');
    expect(f(mkt, 150, 39, 14, 151)).toEqual({ 150: '8', 39: '8', 14: '0', 151: '0' });
    expect(mkt.get(58)).toMatch(/MARKET BUY .*send a LIMIT order/);
    // The session's own exchange in 100 is fine.
    client.send('D', [...e.nos('AP-LR-OK', { qty: '0.1', price: nextBid() }), [100, 'BINANCE']]);
    await er('AP-LR-OK', execType('0'));
    await sleep(200);
    expect((await e.control.orders()).length).toBe(before + 1);
    checkInvariants();
  });

  test('post-only (18=6) goes as TIF 7: resting it rests; one that would take is rejected by the exchange → 150=8 with the venue status in Text', async () => {
    const ok = await resting('AP-PO', { qty: '0.1', price: nextBid(), execInst: '6' });
    expect(await venueOrder(ok.get(37)!)).toMatchObject({ postOnly: true, status: 'new' });
    nos('AP-PO-X', { qty: '0.1', price: '60000.05', execInst: '6' });
    const rej = await er('AP-PO-X', execType('8'));
    expect(f(rej, 39, 14, 151)).toEqual({ 39: '8', 14: '0', 151: '0' });
    expect(rej.get(58)).toMatch(/REJECTED/);
    await sleep(200);
    expect(afterPendingNew('AP-PO-X')).toEqual(['8']);
    checkInvariants();
  });

  test('IOC (59=3) that partly fills ends PART_FILLED at the venue: final 150=C 39=C with CumQty > 0 and LeavesQty 0, never left 39=1', async () => {
    nos('AP-IOC', { qty: '500', price: '60000.02', tif: '3' });
    const done = await er('AP-IOC', execType('C'));
    const v = await venueOrder(done.get(37)!);
    expect(Number(v.cumQty)).toBeGreaterThan(0);
    expect(f(done, 39, 14, 151, 59)).toEqual({ 39: 'C', 14: v.cumQty, 151: '0', 59: '3' });
    expect(done.get(6)).toBe(v.avgPrice);
    await sleep(300);
    const kinds = live('AP-IOC').map((m) => m.get(150));
    expect(kinds[kinds.length - 1]).toBe('C');
    expect(f(await status('AP-IOC'), 39, 150, 14, 151)).toEqual({ 39: 'C', 150: 'C', 14: v.cumQty, 151: '0' });
    checkInvariants();
  });

  test('cancel: 150=4 39=4 with 11 = the cancel ClOrdID and 41 = the original; a partly filled order canceled (PART_FILLED at the venue) keeps its CumQty', async () => {
    const ack = await resting('AP-CX', { qty: '0.3', price: nextBid() });
    client.send('F', cancelFields('AP-CX-C', 'AP-CX'));
    const done = await er('AP-CX-C', execType('4'));
    expect(f(done, 11, 41, 39, 14, 151, 37)).toEqual({ 11: 'AP-CX-C', 41: 'AP-CX', 39: '4', 14: '0', 151: '0', 37: ack.get(37) });
    expect((await venueOrder(ack.get(37)!)).status).toBe('canceled');

    const px = nextBid();
    const ack2 = await resting('AP-PC', { qty: '0.5', price: px });
    await sell('0.2', px);
    await er('AP-PC', execType('1'));
    client.send('F', cancelFields('AP-PC-C', 'AP-PC'));
    const done2 = await er('AP-PC-C', execType('4'));
    expect(f(done2, 11, 41, 39, 14, 151, 6)).toEqual({ 11: 'AP-PC-C', 41: 'AP-PC', 39: '4', 14: '0.2', 151: '0', 6: px });
    expect(await venueOrder(ack2.get(37)!)).toMatchObject({ status: 'canceled', cumQty: '0.2' });
    expect(f(await status('AP-PC'), 39, 14, 151)).toEqual({ 39: '4', 14: '0.2', 151: '0' });
    checkInvariants();
  });

  test('cancel rejects: unknown order 102=1; a filled order 102=0 (too late); too late at the venue (its fill push lost) 102=0, then the fill reported once', async () => {
    client.send('F', cancelFields('AP-CR-U', 'AP-UNKNOWN'));
    expect(f(await cancelReject('AP-CR-U'), 434, 102, 39, 37)).toEqual({ 434: '1', 102: '1', 39: '8', 37: 'NONE' });

    const px = nextBid();
    await resting('AP-CR-F', { qty: '0.05', price: px });
    await sell('0.05', px);
    await er('AP-CR-F', execType('2'));
    client.send('F', cancelFields('AP-CR-F-C', 'AP-CR-F'));
    expect(f(await cancelReject('AP-CR-F-C'), 102, 39)).toEqual({ 102: '0', 39: '2' });

    const px2 = nextBid();
    const ack = await resting('AP-CR-V', { qty: '0.07', price: px2 });
    await e.control.armFaults({ kind: 'suppressStreamEvents', count: 1 });
    await sell('0.07', px2);
    await sleep(100);
    expect(afterPendingNew('AP-CR-V')).toEqual(['0']);
    client.send('F', cancelFields('AP-CR-V-C', 'AP-CR-V'));
    expect(f(await cancelReject('AP-CR-V-C'), 434, 102, 41)).toEqual({ 434: '1', 102: '0', 41: 'AP-CR-V' });
    const fill = await er('AP-CR-V', execType('2'));
    expect(f(fill, 32, 31, 14, 151, 39, 6)).toEqual({ 32: '0.07', 31: px2, 14: '0.07', 151: '0', 39: '2', 6: px2 });
    await sleep(300);
    expect(fillsOf('AP-CR-V')).toHaveLength(1);
    expect((await venueOrder(ack.get(37)!)).status).toBe('filled');
    checkInvariants();
  });

  test('cancel while the order is PENDING_SUBMIT (venue 328026): carried out once the order is submitted → 150=4, never a 35=9', async () => {
    await e.control.configure({ pendingSubmitMs: 1500 });
    const sentAt = Date.now();
    nos('AP-PS', { qty: '0.2', price: nextBid() });
    await sleep(150);
    client.send('F', cancelFields('AP-PS-C', 'AP-PS'));
    const done = await er('AP-PS-C', execType('4'), 10_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1400);
    expect(f(done, 11, 41, 39, 14, 151)).toEqual({ 11: 'AP-PS-C', 41: 'AP-PS', 39: '4', 14: '0', 151: '0' });
    expect((await venueOrder(done.get(37)!)).status).toBe('canceled');
    await sleep(200);
    expect(client.received.slice(thisTest.rxFrom).filter((m) => m.msgType === '9')).toEqual([]);
    const kinds = live('AP-PS').map((m) => m.get(150));
    // PENDING_SUBMIT is Pending New: 150=A carrying Apifiny's orderId, before anything else.
    expect(kinds[0]).toBe('A');
    expect(live('AP-PS')[0].get(37)).toBe(done.get(37));
    expect(kinds[kinds.length - 1]).toBe('4');
    checkInvariants();
  });

  test('duplicate ClOrdID: 150=8 103=6; the original order and the venue untouched', async () => {
    const px = nextBid();
    const ack = await resting('AP-DUP', { qty: '0.2', price: px });
    const before = (await e.control.orders()).length;
    nos('AP-DUP', { qty: '0.3', price: nextBid() });
    const rej = await er('AP-DUP', execType('8'));
    expect(f(rej, 39, 103, 38)).toEqual({ 39: '8', 103: '6', 38: '0.3' });
    expect(rej.get(58)).toMatch(/Duplicate ClOrdID AP-DUP/);
    await sleep(200);
    expect((await e.control.orders()).length).toBe(before);
    expect(f(await status('AP-DUP'), 39, 14, 151, 44)).toEqual({ 39: '0', 14: '0', 151: '0.2', 44: px });
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    checkInvariants();
  });

  test('PossDup / PossResend resend of a NewOrderSingle creates no second venue order', async () => {
    const px = nextBid();
    const first = client.send('D', e.nos('AP-PD', { qty: '0.11', price: px }));
    await er('AP-PD', execType('0'));
    const before = (await e.control.orders()).length;
    const body = first.body.map((x) => [x.tag, x.value] as [number, string]);
    client.send('D', body, { possDup: true, origSendingTime: first.sendingTime });
    client.send('D', body, { header: [[97, 'Y']] });
    expect(f(await status('AP-PD'), 39, 150, 151)).toEqual({ 39: '0', 150: '0', 151: '0.11' });
    await sleep(300);
    expect((await e.control.orders()).length).toBe(before);
    expect(afterPendingNew('AP-PD')).toEqual(['0']);
    expect(client.received.slice(thisTest.rxFrom).filter((m) => ['3', 'j', '9'].includes(m.msgType))).toEqual([]);
    checkInvariants();
  });

  test('5xx after create (the venue took the order, then answered 500; its pushes lost): 150=A, then 150=0 through queryOrderInfo by our orderId; exactly one venue order, trading normally after', async () => {
    await e.control.armFaults([
      { kind: 'error5xxAfter', operation: 'create' },
      { kind: 'suppressStreamEvents', count: 2 },
    ]);
    const before = (await e.control.orders()).length;
    const px = nextBid();
    nos('AP-U5', { qty: '0.13', price: px });
    const ack = await er('AP-U5', execType('0'), 10_000);
    expect(live('AP-U5').map((m) => m.get(150))).toEqual(['A', '0']);
    await sleep(300);
    expect((await e.control.orders()).length).toBe(before + 1);
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    await sell('0.13', px);
    const fill = await er('AP-U5', execType('2'));
    expect(f(fill, 32, 31, 14, 151, 6)).toEqual({ 32: '0.13', 31: px, 14: '0.13', 151: '0', 6: px });
    checkInvariants();
  });

  test('connection dropped after create, and the stream dropped while the order fills: exactly one venue order, the fill reported once after the reconnect', async () => {
    await e.control.armFaults({ kind: 'dropConnectionAfter', operation: 'create' });
    const before = (await e.control.orders()).length;
    const px = nextBid();
    nos('AP-DC', { qty: '0.2', price: px });
    const ack = await er('AP-DC', execType('0'), 10_000);
    expect(await e.control.dropStreams()).toBe(1);
    await sell('0.2', px);
    const fill = await er('AP-DC', execType('2'), 10_000);
    expect(f(fill, 32, 31, 14, 151, 39, 6)).toEqual({ 32: '0.2', 31: px, 14: '0.2', 151: '0', 39: '2', 6: px });
    await sleep(500);
    expect((await e.control.orders()).length).toBe(before + 1);
    expect(await venueOrder(ack.get(37)!)).toMatchObject({ status: 'filled', cumQty: '0.2' });
    expect(fillsOf('AP-DC')).toHaveLength(1);
    checkInvariants();
  });

  test('stream dropped mid-fill: the fill made while disconnected is reported once (snapshot fills the gap), CumQty correct', async () => {
    const px = nextBid();
    await resting('AP-SD', { qty: '0.3', price: px });
    await sell('0.1', px);
    await waitUntil(client, () => fillsOf('AP-SD').length === 1, 5000, 'first fill');
    expect(await e.control.dropStreams()).toBe(1);
    await sell('0.12', px);
    await waitUntil(client, () => fillsOf('AP-SD').length === 2, 10_000, 'missed fill after reconnect');
    for (let i = 0; (await e.control.streams()) < 1; i++) {
      if (i > 100) throw new Error('stream not reconnected');
      await sleep(50);
    }
    await sell('0.08', px);
    await waitUntil(client, () => fillsOf('AP-SD').length === 3, 5000, 'last fill');
    await sleep(400);
    expect(fillsOf('AP-SD').map((m) => f(m, 150, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 32: '0.1', 31: px, 14: '0.1', 151: '0.2', 6: px },
      { 150: '1', 32: '0.12', 31: px, 14: '0.22', 151: '0.08', 6: px },
      { 150: '2', 32: '0.08', 31: px, 14: '0.3', 151: '0', 6: px },
    ]);
    checkInvariants();
  });

  test('the FIX invariants hold over every ExecutionReport of the session', () => {
    expect(expectFixInvariants(e.rec, 0).executionReports).toBeGreaterThan(40);
  });
});

describe('Apifiny: gateway SIGKILLed with open orders and restarted (co-located URLs + VenueExDestination)', () => {
  let sim: SimulatorProcess;
  const dirs: string[] = [];
  beforeAll(async () => {
    sim = await startSimulatorProcess({ venue: 'apifiny' });
  });
  afterAll(async () => {
    await killAllGateways();
    await sim?.stop();
    for (const d of dirs) removeDir(d);
  });

  async function startGateway(prev?: GatewayProcess): Promise<GatewayProcess> {
    const host = new URL(sim.restUrl).host;
    const gw = await startGatewayProcess({
      config: gatewayConfig({
        Venue: 'apifiny',
        VenueRestUrl: `http://${host}/ac/v2`,
        VenueWsUrl: `ws://${host}/ac/ws/v2/order`,
        VenueExDestination: 'BINANCE',
      }),
      dir: prev?.dir,
      ports: prev ? [...prev.ports] : undefined,
    });
    if (!prev) dirs.push(gw.dir);
    await gw.waitForLog((l) => l.msg === 'venue ready', 10_000);
    return gw;
  }

  test('fills made while the gateway is down and after its restart are reported once each; new orderIds never repeat an earlier one', async () => {
    const ORDERS: Record<string, NosFields> = {
      'AK-A': { symbol: 'BTCUSDT', side: '1', qty: '0.5', price: '59000' },
      'AK-B': { symbol: 'ETHUSDT', side: '1', qty: '2', price: '2900.5' },
    };
    let gw = await startGateway();
    const client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
    const rec = new FixRecorder(client);
    autoAnswerResendRequests(client);
    try {
      await logonAndSync(client);
      for (const [cl, o] of Object.entries(ORDERS)) client.send('D', nosFields(cl, o));
      const acks: Record<string, FixMsg> = {};
      for (const cl of Object.keys(ORDERS)) acks[cl] = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === cl && m.get(150) === '0', { what: `ack of ${cl}` });
      await sim.control.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.1', price: '59000' });
      const fillsOf = (cl: string) => {
        const seen = new Set<string>();
        return client.received.filter((m) => {
          if (m.msgType !== '8' || m.get(20) !== '0' || m.get(11) !== cl || !['1', '2'].includes(m.get(150)!)) return false;
          const id = m.get(17)!;
          if (seen.has(id)) return false; // a PossDup copy of a report already received
          seen.add(id);
          return true;
        });
      };
      await waitUntil(client, () => fillsOf('AK-A').length === 1, 5000, 'first fill of AK-A');

      await gw.kill('SIGKILL');
      await client.waitClosed(5000);
      expect(await sim.control.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.15', price: '59000' })).toHaveLength(1);
      expect(await sim.control.trade({ symbol: 'ETHUSDT', side: 'sell', qty: '2', price: '2900.5' })).toHaveLength(1);

      gw = await startGateway(gw);
      await client.reconnect(gw.port);
      await logonAndSync(client);
      await waitUntil(client, () => fillsOf('AK-A').length === 2 && fillsOf('AK-B').length === 1, 10_000, 'fills made while down');
      await sim.control.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.25', price: '59000' });
      await waitUntil(client, () => fillsOf('AK-A').length === 3, 5000, 'last fill of AK-A');
      // A new order after the restart gets a new orderId, later than every earlier one.
      client.send('D', nosFields('AK-C', { symbol: 'BTCUSDT', qty: '0.1', price: '58000' }));
      const ackC = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === 'AK-C' && m.get(150) === '0', { what: 'ack of AK-C' });
      await sleep(500);

      expect(fillsOf('AK-A').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
        { 150: '1', 39: '1', 32: '0.1', 31: '59000', 14: '0.1', 151: '0.4', 6: '59000' },
        { 150: '1', 39: '1', 32: '0.15', 31: '59000', 14: '0.25', 151: '0.25', 6: '59000' },
        { 150: '2', 39: '2', 32: '0.25', 31: '59000', 14: '0.5', 151: '0', 6: '59000' },
      ]);
      expect(fillsOf('AK-B').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([{ 150: '2', 39: '2', 32: '2', 31: '2900.5', 14: '2', 151: '0', 6: '2900.5' }]);
      const ids = [acks['AK-A'].get(37)!, acks['AK-B'].get(37)!, ackC.get(37)!];
      expect(new Set(ids).size).toBe(3);
      expect(BigInt(ids[2])).toBeGreaterThan(BigInt(ids[1]));
      const venue = await sim.control.orders();
      expect(venue.map((o) => o.clientOrderId).sort()).toEqual([...ids].sort());
      expect(venue.find((o) => o.clientOrderId === ids[0])).toMatchObject({ status: 'filled', cumQty: '0.5' });
      expect(f(await (async () => {
        const from = client.received.length;
        client.send('H', statusFields('AK-A'));
        return waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === 'AK-A' && m.get(20) === '3', { from });
      })(), 39, 14, 151)).toEqual({ 39: '2', 14: '0.5', 151: '0' });
      expectFixInvariants(rec);
    } finally {
      client.destroy();
    }
  });
});
