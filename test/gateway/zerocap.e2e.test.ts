// End to end on Zerocap: a FIX 4.2 client over TCP → the real gateway process (session GATEWAY <-
// QFCLIENT, Venue=zerocap, VenueEnvironment=simulator) → the Zerocap simulator as its own child
// process (`node dist/main.js simulate --venue zerocap`) over HTTP and WebSocket on loopback.
//
// Zerocap is the venue without a cancel endpoint and without time in force: every order is
// fill-or-kill against Zerocap's quote (TimeInForce 4), and the simulator rests one only when told
// to through /__sim/config (restNextOrders), as a venue that keeps an order `open` would. Symbols
// are spelled with the slash, as FIX 55 (`BTC/USD`). The simulator's market maker quotes BTC/USD
// asks at 60000.01, 60000.02, ... (1 BTC per level) and bids at 59999.99, 59999.98, ...
//
// One simulator, gateway and logged-on client serve the first describe (each test its own
// ClOrdIDs); the crash describe has its own. Every test ends by checking the FIX ExecutionReport
// invariants (fixinvariants.py's rules) over its messages, and reads the venue's view through
// /__sim/orders.
import { fillReports, liveReports } from '../support/venue-crash-suite';
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
  fileSize,
  gatewayConfig,
  killAllSimulators,
  logonAndSync,
  nosFields,
  reportsFor,
  sessionEventLog,
  startSimulatorProcess,
  startVenueE2e,
  statusFields,
  waitForFileLine,
  waitForMessage,
  waitUntil,
} from '../support/gateway-e2e';

jest.setTimeout(40_000);

const SYMBOL = 'BTC/USD';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function f(m: FixMsg, ...tags: number[]): Record<number, string | undefined> {
  const out: Record<number, string | undefined> = {};
  for (const t of tags) out[t] = m.get(t);
  return out;
}

afterAll(async () => {
  await killAllGateways();
  await killAllSimulators();
});

describe('zerocap end to end: FIX client → gateway process → Zerocap simulator process', () => {
  let e: VenueE2e;
  let client: FixTestClient;
  let recFrom = 0;
  let rxFrom = 0;

  beforeAll(async () => {
    e = await startVenueE2e('zerocap', { streams: 1 });
    client = e.client;
  });
  beforeEach(() => {
    recFrom = e.rec.messages.length;
    rxFrom = client.received.length;
  });
  afterEach(async () => {
    await e?.control.clearFaults().catch(() => undefined);
    await e?.control.configure({ restNextOrders: 0 }).catch(() => undefined);
  });
  afterAll(async () => {
    await e?.stop();
  });

  // Resting buys stay open after their test (Zerocap cannot cancel them). Each test's resting buy
  // is priced above every earlier one and below the best ask, and external sells are limited to
  // that price: a sell hits the best bid first, so it reaches only the order of its test.
  let lastBid = 40000;
  function nextBid(): string {
    lastBid += 250.25;
    if (lastBid >= 59990) throw new Error('out of bid prices');
    return lastBid.toFixed(2).replace(/\.?0+$/, '');
  }

  const sell = (qty: string, price: string) => e.control.trade({ symbol: SYMBOL, side: 'sell', qty, price });

  function nos(clOrdId: string, o: Partial<NosFields>, opts: Parameters<FixTestClient['send']>[2] = {}) {
    return client.send('D', nosFields(clOrdId, { symbol: SYMBOL, qty: '0.1', tif: '4', ...o }), opts);
  }

  function er(clOrdId: string, pred: (m: FixMsg) => boolean = () => true, timeoutMs = 5000): Promise<FixMsg> {
    return waitForMessage(client, (m) => m.msgType === '8' && (m.get(11) === clOrdId || m.get(41) === clOrdId) && pred(m), {
      from: rxFrom,
      timeoutMs,
      what: `ER for ${clOrdId}`,
    });
  }
  const execType = (t: string) => (m: FixMsg) => m.get(150) === t && m.get(20) === '0';
  const live = (clOrdId: string) => reportsFor(client, clOrdId, rxFrom).filter((m) => m.get(20) === '0');
  const fillsOf = (clOrdId: string) => live(clOrdId).filter((m) => m.get(150) === '1' || m.get(150) === '2');

  async function status(clOrdId: string): Promise<FixMsg> {
    const from = client.received.length;
    client.send('H', statusFields(clOrdId, { symbol: SYMBOL }));
    return waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === clOrdId && m.get(20) === '3', { from, what: `status of ${clOrdId}` });
  }

  async function cancelReject(cl: string, orig: string): Promise<FixMsg> {
    client.send('F', cancelFields(cl, orig, { symbol: SYMBOL }));
    return waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === cl, { from: rxFrom, what: `35=9 for ${cl}` });
  }

  /** A buy the simulator keeps `open` (told through /__sim/config); waits for its 150=0. */
  async function resting(clOrdId: string, o: Partial<NosFields>): Promise<FixMsg> {
    await e.control.configure({ restNextOrders: 1 });
    nos(clOrdId, o);
    return er(clOrdId, execType('0'));
  }

  async function venueOrder(orderId: string): Promise<SimOrderView> {
    const o = (await e.control.orders()).find((x) => x.orderId === orderId);
    if (!o) throw new Error(`venue has no order ${orderId}`);
    return o;
  }

  async function venueOrdersAt(price: string): Promise<SimOrderView[]> {
    return (await e.control.orders({ symbol: SYMBOL })).filter((o) => o.price === price);
  }

  const checkInvariants = () => expectFixInvariants(e.rec, recFrom);

  test('an order the venue keeps open rests: one 150=0/39=0 with the venue order id and 55=BTC/USD as Zerocap spells it', async () => {
    const px = nextBid();
    const ack = await resting('Z-NEW-1', { qty: '0.25', price: px });
    expect(f(ack, 11, 14, 20, 38, 39, 40, 44, 54, 55, 59, 150, 151, 6)).toEqual({
      11: 'Z-NEW-1',
      14: '0',
      20: '0',
      38: '0.25',
      39: '0',
      40: '2',
      44: px,
      54: '1',
      55: 'BTC/USD',
      59: '4',
      150: '0',
      151: '0.25',
      6: '0',
    });
    expect(ack.has(32)).toBe(false);
    expect(ack.get(37)).toMatch(/^[0-9a-f-]{36}$/);
    const v = await venueOrder(ack.get(37)!);
    expect(v).toMatchObject({ symbol: 'BTC/USD', side: 'buy', qty: '0.25', price: px, status: 'new', resting: true });
    await sleep(300);
    expect(live('Z-NEW-1').map((m) => m.get(150))).toEqual(['0']);
    checkInvariants();
  });

  test('OrderStatusRequest: 20=3 17=0 150=39 with current 14/151/6 (open, partially filled, filled), unknown ClOrdID → 150=8 39=8 103=5', async () => {
    const px = nextBid();
    await resting('Z-ST-1', { qty: '0.4', price: px });
    let s = await status('Z-ST-1');
    expect(f(s, 11, 17, 20, 39, 150, 14, 151, 6, 38, 54, 55)).toEqual({
      11: 'Z-ST-1',
      17: '0',
      20: '3',
      39: '0',
      150: '0',
      14: '0',
      151: '0.4',
      6: '0',
      38: '0.4',
      54: '1',
      55: 'BTC/USD',
    });
    await sell('0.15', px);
    await er('Z-ST-1', execType('1'));
    s = await status('Z-ST-1');
    expect(f(s, 17, 20, 39, 150, 14, 151, 6)).toEqual({ 17: '0', 20: '3', 39: '1', 150: '1', 14: '0.15', 151: '0.25', 6: px });
    await sell('0.25', px);
    await er('Z-ST-1', execType('2'));
    s = await status('Z-ST-1');
    expect(f(s, 17, 20, 39, 150, 14, 151, 6)).toEqual({ 17: '0', 20: '3', 39: '2', 150: '2', 14: '0.4', 151: '0', 6: px });

    const unknown = await status('Z-ST-NOPE');
    expect(f(unknown, 11, 20, 17, 39, 150, 37, 103)).toEqual({ 11: 'Z-ST-NOPE', 20: '3', 17: '0', 39: '8', 150: '8', 37: 'NONE', 103: '5' });
    checkInvariants();
  });

  test('a FOK that fills at once: 150=0 then 150=2 at the venue price; the venue has one closed order filled at that price', async () => {
    nos('Z-FILL-1', { qty: '0.003', price: '61000' });
    const fill = await er('Z-FILL-1', execType('2'));
    await sleep(300);
    expect(live('Z-FILL-1').map((m) => m.get(150))).toEqual(['0', '2']);
    expect(f(fill, 55, 39, 32, 31, 14, 151, 6, 59)).toEqual({ 55: 'BTC/USD', 39: '2', 32: '0.003', 31: '60000.01', 14: '0.003', 151: '0', 6: '60000.01', 59: '4' });
    const v = await venueOrdersAt('61000');
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ orderId: fill.get(37), status: 'filled', cumQty: '0.003', avgPrice: '60000.01' });
    expect((await status('Z-FILL-1')).get(39)).toBe('2');
    checkInvariants();
  });

  test('a FOK that takes three price levels: one fill ER per venue trade at its own LastPx, AvgPx exact (60000.018)', async () => {
    nos('Z-FILL-3', { qty: '2.5', price: '60000.03' });
    const last = await er('Z-FILL-3', execType('2'));
    await sleep(300);
    const v = await venueOrder(last.get(37)!);
    expect(v.fills.map((x) => [x.qty, x.price])).toEqual([['1', '60000.01'], ['1', '60000.02'], ['0.5', '60000.03']]);
    expect(live('Z-FILL-3').map((m) => m.get(150))).toEqual(['0', '1', '1', '2']);
    expect(fillsOf('Z-FILL-3').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '1', 31: '60000.01', 14: '1', 151: '1.5', 6: '60000.01' },
      { 150: '1', 39: '1', 32: '1', 31: '60000.02', 14: '2', 151: '0.5', 6: '60000.015' },
      { 150: '2', 39: '2', 32: '0.5', 31: '60000.03', 14: '2.5', 151: '0', 6: '60000.018' },
    ]);
    const ids = live('Z-FILL-3').map((m) => m.get(17));
    expect(new Set(ids).size).toBe(ids.length);
    expect(f(await status('Z-FILL-3'), 39, 150, 14, 151, 6)).toEqual({ 39: '2', 150: '2', 14: '2.5', 151: '0', 6: '60000.018' });
    checkInvariants();
  });

  test('three partial fills of a resting order over time: exact 32/31/14/151/6 and AvgPx', async () => {
    // An external taker fills a resting order at the order's own price (the engine's rule): the
    // test above covers fills at different prices; this one, partial fills arriving over time.
    const px = nextBid();
    const ack = await resting('Z-FL-1', { qty: '0.1', price: px });
    const pieces = ['0.03', '0.045', '0.025'];
    for (let i = 0; i < pieces.length; i++) {
      const made = await sell(pieces[i], px);
      expect(made.map((x) => [x.orderId, x.qty, x.price])).toEqual([[ack.get(37), pieces[i], px]]);
      await waitUntil(client, () => fillsOf('Z-FL-1').length > i, 5000, `fill ${i + 1} of Z-FL-1`);
    }
    await sleep(200);
    expect(fillsOf('Z-FL-1').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '0.03', 31: px, 14: '0.03', 151: '0.07', 6: px },
      { 150: '1', 39: '1', 32: '0.045', 31: px, 14: '0.075', 151: '0.025', 6: px },
      { 150: '2', 39: '2', 32: '0.025', 31: px, 14: '0.1', 151: '0', 6: px },
    ]);
    expect((await venueOrder(ack.get(37)!)).status).toBe('filled');
    checkInvariants();
  });

  test('local rejects (no venue call): GTC, IOC and Day → 150=8 103=0 saying Zerocap orders are fill-or-kill; market → 150=8; unknown symbol → 103=1', async () => {
    const before = (await e.control.orders()).length;
    nos('Z-LR-GTC', { price: nextBid(), tif: '1' });
    nos('Z-LR-IOC', { price: nextBid(), tif: '3' });
    nos('Z-LR-DAY', { price: nextBid(), tif: '0' });
    nos('Z-LR-NOTIF', { price: nextBid(), tif: null });
    nos('Z-LR-MKT', { ordType: '1' });
    nos('Z-LR-SYM', { symbol: 'BTCUSD', price: '50000' });
    const gtc = await er('Z-LR-GTC');
    const ioc = await er('Z-LR-IOC');
    const day = await er('Z-LR-DAY');
    const noTif = await er('Z-LR-NOTIF');
    const mkt = await er('Z-LR-MKT');
    const sym = await er('Z-LR-SYM');
    for (const m of [gtc, ioc, day, noTif, mkt, sym]) {
      expect(f(m, 150, 39, 14, 151, 20, 37)).toEqual({ 150: '8', 39: '8', 14: '0', 151: '0', 20: '0', 37: 'NONE' });
      expect(m.get(58)).toBeTruthy();
    }
    for (const m of [gtc, ioc, day, noTif]) {
      expect(m.get(103)).toBe('0');
      expect(m.get(58)).toMatch(/FOK/);
    }
    expect(gtc.get(58)).toMatch(/TimeInForce 1 \(GTC\) not supported/);
    expect(ioc.get(58)).toMatch(/TimeInForce 3 \(IOC\) not supported/);
    expect(mkt.get(58)).toMatch(/market/i);
    expect(sym.get(103)).toBe('1');
    expect(sym.get(58)).toMatch(/Unknown symbol BTCUSD/);
    await sleep(200);
    expect((await e.control.orders()).length).toBe(before);
    checkInvariants();
  });

  test('venue kills a FOK it cannot fill at the limit (closed, filled 0): 150=0 then 150=C 39=C with the venue text in 58, never 150=4', async () => {
    nos('Z-KILL-1', { qty: '0.2', price: '59000.5' });
    const done = await er('Z-KILL-1', (m) => m.get(20) === '0' && ['C', '8', '4'].includes(m.get(150)!));
    await sleep(300);
    expect(live('Z-KILL-1').map((m) => m.get(150))).toEqual(['0', 'C']);
    expect(f(done, 39, 14, 151, 6)).toEqual({ 39: 'C', 14: '0', 151: '0', 6: '0' });
    expect(done.get(58)).toMatch(/could not be filled at the limit price/);
    const v = await venueOrdersAt('59000.5');
    expect(v).toHaveLength(1);
    // The engine's word for it; on Zerocap's wire it is `closed`, filled 0, with the error_message.
    expect(v[0]).toMatchObject({ orderId: done.get(37), status: 'rejected', rejectReason: 'fok_not_fillable', cumQty: '0' });
    expect(f(await status('Z-KILL-1'), 39, 150, 14, 151)).toEqual({ 39: 'C', 150: 'C', 14: '0', 151: '0' });
    checkInvariants();
  });

  test('venue reject (HTTP 400 from create_order, a risk limit only the venue knows): 150=8 39=8 103=3 with the venue text in 58; no venue order', async () => {
    await e.control.configure({ maxOrderNotional: '1000' });
    try {
      const before = (await e.control.orders()).length;
      nos('Z-VR-1', { qty: '0.1', price: '61000' });
      const rej = await er('Z-VR-1');
      expect(f(rej, 150, 39, 14, 151, 20, 55, 103)).toEqual({ 150: '8', 39: '8', 14: '0', 151: '0', 20: '0', 55: 'BTC/USD', 103: '3' });
      expect(rej.get(58)).toMatch(/Risk limit exceeded: order notional 6100 above 1000/);
      await sleep(300);
      expect(live('Z-VR-1').map((m) => m.get(150))).toEqual(['8']);
      expect((await e.control.orders()).length).toBe(before);
    } finally {
      await e.control.configure({ maxOrderNotional: '0' });
    }
    checkInvariants();
  });

  test('duplicate ClOrdID: 150=8 39=8 103=6; the original order and the venue are untouched', async () => {
    const px = nextBid();
    const ack = await resting('Z-DUP-1', { qty: '0.2', price: px });
    const before = (await e.control.orders()).length;
    nos('Z-DUP-1', { qty: '0.3', price: nextBid() });
    const rej = await er('Z-DUP-1', execType('8'));
    expect(f(rej, 11, 39, 103, 14, 151, 38)).toEqual({ 11: 'Z-DUP-1', 39: '8', 103: '6', 14: '0', 151: '0', 38: '0.3' });
    expect(rej.get(58)).toMatch(/Duplicate ClOrdID Z-DUP-1/);
    await sleep(200);
    expect((await e.control.orders()).length).toBe(before);
    expect(f(await status('Z-DUP-1'), 39, 150, 14, 151, 38, 44)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.2', 38: '0.2', 44: px });
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    checkInvariants();
  });

  test('PossDup resend of a NewOrderSingle (43=Y, same ClOrdID) creates no second venue order', async () => {
    const px = nextBid();
    await e.control.configure({ restNextOrders: 1 });
    const first = nos('Z-PD-1', { qty: '0.11', price: px });
    const ack = await er('Z-PD-1', execType('0'));
    const body = first.body.map((x) => [x.tag, x.value] as [number, string]);
    await e.control.configure({ restNextOrders: 5 });
    client.send('D', body, { possDup: true, origSendingTime: first.sendingTime });
    client.send('D', body, { seqNum: first.seqNum, possDup: true, origSendingTime: first.sendingTime });
    client.send('D', body, { header: [[97, 'Y']] });
    expect(f(await status('Z-PD-1'), 39, 150, 14, 151)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.11' });
    await sleep(300);
    const at = await venueOrdersAt(px);
    expect(at.map((o) => o.orderId)).toEqual([ack.get(37)]);
    expect(live('Z-PD-1').map((m) => m.get(150))).toEqual(['0']);
    expect(client.received.slice(rxFrom).filter((m) => ['3', 'j', '5', '9'].includes(m.msgType))).toEqual([]);
    expect(client.closedNow).toBe(false);
    checkInvariants();
  });

  test('cancel refused: Zerocap has no cancel → 35=9 434=1 102=2 39=0 saying the venue cannot cancel; the order is untouched and fills later; then 102=0 once done', async () => {
    const px = nextBid();
    const ack = await resting('Z-CX-1', { qty: '0.3', price: px });
    const rej = await cancelReject('Z-CX-1-C', 'Z-CX-1');
    expect(f(rej, 11, 41, 434, 102, 39, 37)).toEqual({ 11: 'Z-CX-1-C', 41: 'Z-CX-1', 434: '1', 102: '2', 39: '0', 37: ack.get(37) });
    expect(rej.get(58)).toMatch(/venue cannot cancel/i);
    await sleep(300);
    expect(live('Z-CX-1').map((m) => m.get(150))).toEqual(['0']);
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    expect(f(await status('Z-CX-1'), 39, 150, 14, 151)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.3' });

    // The order keeps trading.
    await sell('0.3', px);
    const fill = await er('Z-CX-1', execType('2'));
    expect(f(fill, 11, 32, 31, 14, 151, 39)).toEqual({ 11: 'Z-CX-1', 32: '0.3', 31: px, 14: '0.3', 151: '0', 39: '2' });
    // Now it is done: too late.
    const late = await cancelReject('Z-CX-1-D', 'Z-CX-1');
    expect(f(late, 11, 41, 434, 102, 39, 37)).toEqual({ 11: 'Z-CX-1-D', 41: 'Z-CX-1', 434: '1', 102: '0', 39: '2', 37: ack.get(37) });
    // Unknown order.
    const unknown = await cancelReject('Z-CX-U-C', 'Z-CX-UNKNOWN');
    expect(f(unknown, 434, 102, 39, 37)).toEqual({ 434: '1', 102: '1', 39: '8', 37: 'NONE' });
    await sleep(200);
    expect(live('Z-CX-1').map((m) => m.get(150))).toEqual(['0', '2']);
    // No ExecutionReport carries the cancel's ClOrdID: nothing happened to the order because of it.
    expect(live('Z-CX-1-C')).toEqual([]);
    checkInvariants();
  });

  test('cancel of a FOK already filled: 35=9 102=0 39=2, no 150=4', async () => {
    nos('Z-CX-2', { qty: '0.001', price: '61000' });
    const fill = await er('Z-CX-2', execType('2'));
    const late = await cancelReject('Z-CX-2-C', 'Z-CX-2');
    expect(f(late, 434, 102, 39, 37)).toEqual({ 434: '1', 102: '0', 39: '2', 37: fill.get(37) });
    await sleep(200);
    expect(live('Z-CX-2').map((m) => m.get(150))).toEqual(['0', '2']);
    checkInvariants();
  });

  test('5xx after create (the venue filled the FOK, then answered 500; its pushes lost): 150=A, then found through fetch_orders: 150=0, 150=2; exactly one venue order', async () => {
    await e.control.armFaults([
      { kind: 'error5xxAfter', operation: 'create' },
      { kind: 'suppressStreamEvents', count: 10 },
    ]);
    const px = '60500.5';
    nos('Z-U5-1', { qty: '0.13', price: px });
    const fill = await er('Z-U5-1', execType('2'), 15_000);
    await sleep(300);
    expect(live('Z-U5-1').map((m) => m.get(150))).toEqual(['A', '0', '2']);
    expect(f(live('Z-U5-1')[0], 39, 14, 151, 37)).toEqual({ 39: 'A', 14: '0', 151: '0.13', 37: 'NONE' });
    expect(f(fill, 32, 31, 14, 151, 6)).toEqual({ 32: '0.13', 31: '60000.01', 14: '0.13', 151: '0', 6: '60000.01' });
    const v = await venueOrdersAt(px);
    expect(v.map((o) => [o.orderId, o.status])).toEqual([[fill.get(37), 'filled']]);
    expect((await status('Z-U5-1')).get(39)).toBe('2');
    checkInvariants();
  });

  test('5xx after create of an order the venue keeps open: 150=A then 150=0; one venue order, which fills later and is reported once', async () => {
    await e.control.configure({ restNextOrders: 1 });
    await e.control.armFaults([
      { kind: 'error5xxAfter', operation: 'create' },
      { kind: 'suppressStreamEvents', count: 1 },
    ]);
    const px = nextBid();
    nos('Z-U5-2', { qty: '0.2', price: px });
    const ack = await er('Z-U5-2', execType('0'), 15_000);
    expect(live('Z-U5-2').map((m) => m.get(150))).toEqual(['A', '0']);
    await sleep(300);
    expect((await venueOrdersAt(px)).map((o) => o.orderId)).toEqual([ack.get(37)]);
    await sell('0.2', px);
    const fill = await er('Z-U5-2', execType('2'));
    expect(f(fill, 32, 31, 14, 151, 6)).toEqual({ 32: '0.2', 31: px, 14: '0.2', 151: '0', 6: px });
    await sleep(300);
    expect(fillsOf('Z-U5-2')).toHaveLength(1);
    checkInvariants();
  });

  test('timeout after create (the venue filled it and never answered; its pushes lost): 150=A after the request timeout, then 150=0 and 150=2; one venue order', async () => {
    await e.control.armFaults([
      { kind: 'timeoutAfter', operation: 'create', holdMs: 20_000 },
      { kind: 'suppressStreamEvents', count: 10 },
    ]);
    const px = '60600.5';
    const sentAt = Date.now();
    nos('Z-UT-1', { qty: '0.14', price: px });
    const fill = await er('Z-UT-1', execType('2'), 20_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(4_500);
    await sleep(300);
    expect(live('Z-UT-1').map((m) => m.get(150))).toEqual(['A', '0', '2']);
    expect(f(fill, 32, 31, 14, 151, 6)).toEqual({ 32: '0.14', 31: '60000.01', 14: '0.14', 151: '0', 6: '60000.01' });
    const v = await venueOrdersAt(px);
    expect(v.map((o) => [o.orderId, o.status])).toEqual([[fill.get(37), 'filled']]);
    expect(f(await status('Z-UT-1'), 39, 150, 14, 151)).toEqual({ 39: '2', 150: '2', 14: '0.14', 151: '0' });
    checkInvariants();
  });

  test('timeout after create while the stream works: the pushes report the fill, nothing is re-reported when the request times out', async () => {
    await e.control.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 20_000 });
    const px = '60700.5';
    nos('Z-UT-2', { qty: '0.15', price: px });
    const fill = await er('Z-UT-2', execType('2'), 15_000);
    await e.gw.waitForLog((l) => l.msg === 'create outcome unknown; resolving through the venue' && l.clOrdId === 'Z-UT-2', 15_000);
    await sleep(1000);
    expect(live('Z-UT-2').map((m) => m.get(150)).filter((t) => t !== 'A')).toEqual(['0', '2']);
    expect(fillsOf('Z-UT-2')).toHaveLength(1);
    expect((await venueOrdersAt(px)).map((o) => o.orderId)).toEqual([fill.get(37)]);
    checkInvariants();
  });

  test('stream dropped while an open order trades: after the reconnect the missed fill is reported once, CumQty correct', async () => {
    const px = nextBid();
    await resting('Z-SD-1', { qty: '0.3', price: px });
    await sell('0.1', px);
    await waitUntil(client, () => fillsOf('Z-SD-1').length === 1, 5000, 'first fill');
    expect(await e.control.dropStreams()).toBe(1);
    await sell('0.12', px);
    await waitUntil(client, () => fillsOf('Z-SD-1').length === 2, 10_000, 'missed fill after reconnect');
    for (let i = 0; (await e.control.streams()) < 1; i++) {
      if (i > 200) throw new Error('stream not reconnected');
      await sleep(50);
    }
    await sell('0.08', px);
    await waitUntil(client, () => fillsOf('Z-SD-1').length === 3, 5000, 'last fill');
    await sleep(400);
    expect(fillsOf('Z-SD-1').map((m) => f(m, 150, 32, 14, 151))).toEqual([
      { 150: '1', 32: '0.1', 14: '0.1', 151: '0.2' },
      { 150: '1', 32: '0.12', 14: '0.22', 151: '0.08' },
      { 150: '2', 32: '0.08', 14: '0.3', 151: '0' },
    ]);
    checkInvariants();
  });

  test('an open order the venue closes by itself (closed, partly filled): 150=C 39=C with CumQty kept, never 150=4', async () => {
    const px = nextBid();
    await e.control.configure({ restNextOrders: 1, restingOrderTtlMs: 1500 });
    try {
      nos('Z-TTL-1', { qty: '0.5', price: px });
      const ack = await er('Z-TTL-1', execType('0'));
      await sell('0.2', px);
      await er('Z-TTL-1', execType('1'));
      const done = await er('Z-TTL-1', (m) => m.get(20) === '0' && '48C'.includes(m.get(150)!), 10_000);
      expect(f(done, 150, 39, 14, 151, 6)).toEqual({ 150: 'C', 39: 'C', 14: '0.2', 151: '0', 6: px });
      await sleep(300);
      expect(live('Z-TTL-1').map((m) => m.get(150))).toEqual(['0', '1', 'C']);
      expect(await venueOrder(ack.get(37)!)).toMatchObject({ status: 'expired', cumQty: '0.2' });
      expect(f(await status('Z-TTL-1'), 39, 150, 14, 151)).toEqual({ 39: 'C', 150: 'C', 14: '0.2', 151: '0' });
    } finally {
      await e.control.configure({ restingOrderTtlMs: 0 });
    }
    checkInvariants();
  });

  test('the FIX invariants hold over every ExecutionReport of the session', () => {
    const r = expectFixInvariants(e.rec, 0);
    expect(r.executionReports).toBeGreaterThan(40);
  });
});

describe('zerocap: DayOrderTimeInForce=FOK maps Day orders to fill-or-kill', () => {
  test('59=0 and no 59 are sent as FOK: a filling one fills, and ERs echo the client TimeInForce', async () => {
    const e = await startVenueE2e('zerocap', { session: { DayOrderTimeInForce: 'FOK' } });
    try {
      const from = e.client.received.length;
      e.client.send('D', nosFields('Z-DAY-1', { symbol: SYMBOL, qty: '0.002', price: '61000', tif: '0' }));
      e.client.send('D', nosFields('Z-DAY-2', { symbol: SYMBOL, qty: '0.002', price: '61000', tif: null }));
      e.client.send('D', nosFields('Z-DAY-3', { symbol: SYMBOL, qty: '0.002', price: '61000', tif: '1' }));
      for (const cl of ['Z-DAY-1', 'Z-DAY-2']) {
        await waitUntil(e.client, () => reportsFor(e.client, cl, from).some((m) => m.get(39) === '2'), 10_000, `${cl} filled`);
      }
      const gtc = await waitForMessage(e.client, (m) => m.msgType === '8' && m.get(11) === 'Z-DAY-3', { from });
      expect(f(gtc, 150, 39, 103)).toEqual({ 150: '8', 39: '8', 103: '0' });
      expect((await e.control.orders({ symbol: SYMBOL })).map((o) => o.status)).toEqual(['filled', 'filled']);
      expectFixInvariants(e.rec);
    } finally {
      await e.stop();
    }
  });
});

describe('zerocap: gateway SIGKILLed with open orders and restarted while the simulator keeps trading', () => {
  let simProc: SimulatorProcess;
  const dirs: string[] = [];
  const clients: FixTestClient[] = [];

  beforeAll(async () => {
    simProc = await startSimulatorProcess({ venue: 'zerocap' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await killAllGateways();
    await simProc?.stop();
    for (const d of dirs) removeDir(d);
  });

  const config = () => gatewayConfig({ Venue: 'zerocap', VenueRestUrl: simProc.restUrl, VenueWsUrl: simProc.wsUrl });

  async function startGateway(prev?: GatewayProcess): Promise<GatewayProcess> {
    const gw = await startGatewayProcess({ config: config(), dir: prev?.dir, ports: prev ? [...prev.ports] : undefined });
    if (!prev) dirs.push(gw.dir);
    await gw.waitForLog((l) => l.msg === 'venue ready', 10_000);
    return gw;
  }


  test('fills made while the gateway is down and after its restart are reported once each, CumQty and AvgPx correct; status and a refused cancel after the restart', async () => {
    const sim = simProc.control;
    const ORDERS: Record<string, NosFields> = {
      // One symbol per order, so an external trade reaches only the order it is meant for.
      'ZK-A': { symbol: 'BTC/USD', side: '1', qty: '0.5', price: '59000', tif: '4' },
      'ZK-B': { symbol: 'ETH/USD', side: '1', qty: '2', price: '2900.5', tif: '4' },
      'ZK-C': { symbol: 'USDT/AUD', side: '2', qty: '100', price: '1.6', tif: '4' },
    };
    let gw = await startGateway();
    const client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
    clients.push(client);
    const rec = new FixRecorder(client);
    autoAnswerResendRequests(client);
    await logonAndSync(client);

    const acks: Record<string, FixMsg> = {};
    for (const [cl, o] of Object.entries(ORDERS)) {
      await sim.configure({ restNextOrders: 1 });
      client.send('D', nosFields(cl, o));
      acks[cl] = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === cl && m.get(150) === '0', { what: `ack of ${cl}` });
    }
    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.1', price: '59000' });
    await waitUntil(client, () => fillReports(client, 'ZK-A').length === 1, 5000, 'first fill of ZK-A');

    await gw.kill('SIGKILL');
    await client.waitClosed(5000);

    expect(await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.15', price: '59000' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'ETH/USD', side: 'sell', qty: '2', price: '2900.5' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'USDT/AUD', side: 'buy', qty: '40', price: '1.6' })).toHaveLength(1);

    const eventLog = sessionEventLog(gw.dir);
    const logFrom = fileSize(eventLog);
    gw = await startGateway(gw);
    await waitForFileLine(eventLog, /Reconciled 3 open orders with zerocap/, logFrom);
    await client.reconnect(gw.port);
    await logonAndSync(client);
    await waitUntil(
      client,
      () => fillReports(client, 'ZK-A').length === 2 && fillReports(client, 'ZK-B').length === 1 && fillReports(client, 'ZK-C').length === 1,
      10_000,
      'fills made while the gateway was down',
    );
    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.25', price: '59000' });
    await waitUntil(client, () => fillReports(client, 'ZK-A').length === 3, 5000, 'last fill of ZK-A');
    // A cancel after the restart is refused, and the order stays as it is.
    client.send('F', cancelFields('ZK-C-X', 'ZK-C', { symbol: 'USDT/AUD', side: '2' }));
    const rej = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'ZK-C-X', { what: '35=9 for ZK-C-X' });
    expect(f(rej, 434, 102, 39, 37)).toEqual({ 434: '1', 102: '2', 39: '1', 37: acks['ZK-C'].get(37) });
    await sleep(500);

    expect(fillReports(client, 'ZK-A').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '0.1', 31: '59000', 14: '0.1', 151: '0.4', 6: '59000' },
      { 150: '1', 39: '1', 32: '0.15', 31: '59000', 14: '0.25', 151: '0.25', 6: '59000' },
      { 150: '2', 39: '2', 32: '0.25', 31: '59000', 14: '0.5', 151: '0', 6: '59000' },
    ]);
    expect(fillReports(client, 'ZK-B').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '2', 39: '2', 32: '2', 31: '2900.5', 14: '2', 151: '0', 6: '2900.5' },
    ]);
    expect(fillReports(client, 'ZK-C').map((m) => f(m, 150, 39, 32, 31, 14, 151, 6))).toEqual([
      { 150: '1', 39: '1', 32: '40', 31: '1.6', 14: '40', 151: '60', 6: '1.6' },
    ]);
    expect(liveReports(client, 'ZK-C').map((m) => m.get(150))).toEqual(['0', '1']);
    const all = client.received.filter((m) => m.msgType === '8' && m.get(20) === '0');
    expect(new Set(all.map((m) => m.get(17))).size).toBe(8);

    const statusOf = async (cl: string, symbol: string, side: '1' | '2') => {
      const from = client.received.length;
      client.send('H', statusFields(cl, { symbol, side }));
      return waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === cl && m.get(20) === '3', { from });
    };
    expect(f(await statusOf('ZK-A', 'BTC/USD', '1'), 39, 150, 14, 151, 6)).toEqual({ 39: '2', 150: '2', 14: '0.5', 151: '0', 6: '59000' });
    expect(f(await statusOf('ZK-C', 'USDT/AUD', '2'), 39, 150, 14, 151)).toEqual({ 39: '1', 150: '1', 14: '40', 151: '60' });
    const venueIds = Object.values(acks).map((m) => m.get(37));
    const venue = (await sim.orders()).filter((o) => venueIds.includes(o.orderId));
    expect(venue.map((o) => [o.symbol, o.status, o.cumQty]).sort()).toEqual([
      ['BTC/USD', 'filled', '0.5'],
      ['ETH/USD', 'filled', '2'],
      ['USDT/AUD', 'partially_filled', '40'],
    ]);
    expectFixInvariants(rec);
  });

  test('SIGKILL while the create request is in flight (the venue has the open order, the gateway no reply): after the restart it is found by client_order_id, acked, and its fill reported once', async () => {
    const sim = simProc.control;
    let gw = await startGateway();
    const client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
    clients.push(client);
    const rec = new FixRecorder(client);
    autoAnswerResendRequests(client);
    await logonAndSync(client);
    await sim.configure({ restNextOrders: 1 });
    await sim.armFaults([
      { kind: 'timeoutAfter', operation: 'create', holdMs: 30_000 },
      { kind: 'suppressStreamEvents', count: 5 },
    ]);
    const price = '58000.75';
    client.send('D', nosFields('ZK-U', { symbol: 'BTC/USD', qty: '0.3', price, tif: '4' }));
    let venue: SimOrderView | undefined;
    for (let i = 0; !venue; i++) {
      if (i > 100) throw new Error('the venue never got the order');
      await sleep(20);
      venue = (await sim.orders({ symbol: 'BTC/USD' })).find((o) => o.price === price);
    }
    await sleep(100);
    await gw.kill('SIGKILL');
    await client.waitClosed(5000);
    await sim.clearFaults();
    expect(client.received.filter((m) => m.msgType === '8' && m.get(11) === 'ZK-U')).toEqual([]);

    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.1', price });
    gw = await startGateway(gw);
    await client.reconnect(gw.port);
    await logonAndSync(client);
    await waitUntil(client, () => fillReports(client, 'ZK-U').length === 1, 15_000, 'fill of ZK-U after the restart');
    await sleep(300);
    const reports = liveReports(client, 'ZK-U');
    expect(reports.map((m) => m.get(150)).filter((t) => t !== 'A')).toEqual(['0', '1']);
    expect(f(reports[reports.length - 1], 150, 39, 32, 31, 14, 151, 6, 37)).toEqual({
      150: '1', 39: '1', 32: '0.1', 31: price, 14: '0.1', 151: '0.2', 6: price, 37: venue.orderId,
    });
    expect((await sim.orders({ symbol: 'BTC/USD' })).filter((o) => o.price === price)).toHaveLength(1);
    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.2', price });
    await waitUntil(client, () => fillReports(client, 'ZK-U').length === 2, 5000, 'last fill of ZK-U');
    expect(fillReports(client, 'ZK-U').map((m) => f(m, 150, 32, 14, 151))).toEqual([
      { 150: '1', 32: '0.1', 14: '0.1', 151: '0.2' },
      { 150: '2', 32: '0.2', 14: '0.3', 151: '0' },
    ]);
    expectFixInvariants(rec);
  });
});
