// End to end on Dzengi: a FIX 4.2 client over TCP → the gateway process (Venue=dzengi,
// VenueEnvironment=simulator) → the Dzengi simulator as its own child (`simulate --venue dzengi`)
// over HTTP on loopback. Dzengi has no client order id and no own-order stream, so everything
// after the create reply reaches FIX through the venue-neutral poller, and an order whose create
// outcome is unknown is found by its content. The gateway's REST traffic passes through a
// recording TCP relay in this process, so the test can read the bytes on the wire (the symbol
// `BTC/USD` must travel as `BTC%2FUSD`). The venue's own view of every order is read through
// /__sim/orders. Every test ends with the FIX ExecutionReport invariants over its messages.
import * as net from 'net';
import { DzengiRestClient } from '../../src/venues/dzengi/dzengi-rest-client';
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
  startSimulatorProcess,
  waitForMessage,
  waitUntil,
} from '../support/gateway-e2e';
import { bidLadder, execType, usePerTestReports } from '../support/per-test-reports';
import { fieldsOf as f, requestStatus } from '../support/venue-crash-suite';

jest.setTimeout(40_000);

const SYMBOL = 'BTC/USD';
let simProc: SimulatorProcess;
let relay: RecordingRelay;
let gw: GatewayProcess;
let client: FixTestClient;
let rec: FixRecorder;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP relay to the simulator that keeps every byte the gateway sends (HTTP requests, in order). */
interface RecordingRelay {
  url: string;
  sent(): string;
  close(): Promise<void>;
}

async function startRelay(targetPort: number): Promise<RecordingRelay> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    sockets.add(down).add(up);
    down.on('data', (d: Buffer) => chunks.push(d));
    down.pipe(up);
    up.pipe(down);
    const end = () => {
      down.destroy();
      up.destroy();
      sockets.delete(down);
      sockets.delete(up);
    };
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    sent: () => Buffer.concat(chunks).toString('latin1'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// Resting buys stay on the book: each test's buy is above every earlier one (below the best bid,
// 59999.99) and external sells are limited to it, so a sell reaches only its own test's order.
const nextBid = bidLadder({ limit: 59990 });

function sell(qty: string, price: string) {
  return simProc.control.trade({ symbol: SYMBOL, side: 'sell', qty, price });
}

beforeAll(async () => {
  simProc = await startSimulatorProcess({ venue: 'dzengi' });
  // 1 BTC per price level: a crossing order of 2.5 takes three levels (three trades, three prices).
  await simProc.control.configure({ liquidity: { [SYMBOL]: { levelQty: '1' } } });
  relay = await startRelay(simProc.port);
  gw = await startGatewayProcess({ config: gatewayConfig({ Venue: 'dzengi', VenueRestUrl: relay.url, VenueWsUrl: simProc.wsUrl }) });
  await gw.waitForLog((e) => e.msg === 'venue ready', 10_000);
  client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
  rec = new FixRecorder(client);
  autoAnswerResendRequests(client);
  await client.logon({ heartBtInt: 30 });
});

const thisTest = usePerTestReports(() => client, () => rec, 8000);
const { er, live, fillsOf } = thisTest;

afterEach(async () => {
  await simProc?.control.clearFaults().catch(() => undefined);
});

afterAll(async () => {
  client?.destroy();
  await killAllGateways();
  await relay?.close();
  await simProc?.stop().catch(() => undefined);
  await killAllSimulators();
  if (gw) removeDir(gw.dir);
});

// ------------------------------------------------------------------------------------ helpers

function nos(clOrdId: string, f: Partial<NosFields>, opts: Parameters<FixTestClient['send']>[2] = {}) {
  return client.send('D', nosFields(clOrdId, { symbol: SYMBOL, qty: '0.01', ...f }), opts);
}

const status = (clOrdId: string, o: { symbol?: string; side?: '1' | '2' } = {}) => requestStatus(client, clOrdId, { symbol: SYMBOL, ...o });

async function resting(clOrdId: string, f: Partial<NosFields>): Promise<FixMsg> {
  nos(clOrdId, f);
  return er(clOrdId, execType('0'));
}

async function venueOrders(): Promise<SimOrderView[]> {
  return simProc.control.orders({ symbol: SYMBOL });
}

async function venueOrder(orderId: string): Promise<SimOrderView> {
  const o = (await simProc.control.orders()).find((x) => uuidOf(x.orderId) === orderId);
  if (!o) throw new Error(`venue has no order ${orderId}`);
  return o;
}

/** /__sim/ lists engine ids; Dzengi's wire id (FIX 37) is the same number as a UUID. */
function uuidOf(engineId: string): string {
  if (!/^\d+$/.test(engineId)) return engineId;
  const hex = BigInt(engineId).toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function checkInvariants(): void {
  expectFixInvariants(rec, thisTest.recFrom);
}

// ------------------------------------------------------------------------------------ tests

describe('Dzengi end to end: FIX client → gateway process → Dzengi simulator (no client order id, polled)', () => {
  test('a limit order that does not cross rests: one 150=0 ER with the venue UUID as OrderID, 55=BTC/USD, and the venue has it', async () => {
    const before = (await venueOrders()).length;
    const px = nextBid();
    nos('DZ-NEW-1', { qty: '0.25', price: px });
    const ack = await er('DZ-NEW-1');
    expect(f(ack, 11, 14, 20, 38, 39, 40, 44, 54, 55, 59, 150, 151, 6)).toEqual({
      11: 'DZ-NEW-1',
      14: '0',
      20: '0',
      38: '0.25',
      39: '0',
      40: '2',
      44: px,
      54: '1',
      55: 'BTC/USD',
      59: '1',
      150: '0',
      151: '0.25',
      6: '0',
    });
    expect(ack.get(37)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await venueOrders()).length).toBe(before + 1);
    expect(await venueOrder(ack.get(37)!)).toMatchObject({ symbol: 'BTC/USD', side: 'buy', qty: '0.25', price: px, status: 'new', resting: true, timeInForce: 'GTC' });
    // Polling a resting, unchanged order reports nothing more.
    await sleep(2500);
    expect(live('DZ-NEW-1').map((m) => m.get(150))).toEqual(['0']);
    checkInvariants();
  });

  test('the symbol travels as BTC%2FUSD in the signed create body and in every query string, never raw or double-encoded', () => {
    const wire = relay.sent();
    const creates = wire.split(/(?=POST |GET |DELETE |PUT )/).filter((r) => r.startsWith('POST /api/v2/order'));
    expect(creates.length).toBeGreaterThan(0);
    for (const r of creates) expect(r).toMatch(/(^|&|\r\n\r\n)symbol=BTC%2FUSD&/);
    const queries = wire.split('\r\n').filter((l) => /^(GET|DELETE) \/api\/v2\/(openOrders|fetchOrder|myTrades|order)\?/.test(l));
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) expect(q).toMatch(/[?&]symbol=BTC%2FUSD(&|\s)/);
    expect(wire).not.toMatch(/symbol=BTC\/USD/);
    expect(wire).not.toMatch(/%252F/);
  });

  test('OrderStatusRequest: 20=3 17=0 150=39 = current status with 14/151/6, through new, partially filled (polled), filled; unknown ClOrdID → 103=5', async () => {
    const px = nextBid();
    await resting('DZ-ST-1', { qty: '0.4', price: px });
    let s = await status('DZ-ST-1');
    expect(f(s, 11, 17, 20, 39, 150, 14, 151, 6, 38, 54, 55)).toEqual({ 11: 'DZ-ST-1', 17: '0', 20: '3', 39: '0', 150: '0', 14: '0', 151: '0.4', 6: '0', 38: '0.4', 54: '1', 55: 'BTC/USD' });

    await sell('0.15', px);
    await er('DZ-ST-1', execType('1'));
    s = await status('DZ-ST-1');
    expect(f(s, 17, 20, 39, 150, 14, 151, 6)).toEqual({ 17: '0', 20: '3', 39: '1', 150: '1', 14: '0.15', 151: '0.25', 6: px });

    await sell('0.25', px);
    await er('DZ-ST-1', execType('2'));
    s = await status('DZ-ST-1');
    expect(f(s, 17, 20, 39, 150, 14, 151, 6)).toEqual({ 17: '0', 20: '3', 39: '2', 150: '2', 14: '0.4', 151: '0', 6: px });

    const unknown = await status('DZ-ST-NOPE');
    expect(f(unknown, 20, 17, 39, 150, 37, 103)).toEqual({ 20: '3', 17: '0', 39: '8', 150: '8', 37: 'NONE', 103: '5' });
    checkInvariants();
  });

  test('a resting order filled in three external trades: three fill ERs from polling, one per venue trade, exact 32/31/14/151/6, unique ExecIDs', async () => {
    const px = nextBid();
    const ack = await resting('DZ-FL-1', { qty: '0.1', price: px });
    const pieces = ['0.03', '0.045', '0.025'];
    const expected = [
      { 150: '1', 39: '1', 32: '0.03', 31: px, 14: '0.03', 151: '0.07', 6: px },
      { 150: '1', 39: '1', 32: '0.045', 31: px, 14: '0.075', 151: '0.025', 6: px },
      { 150: '2', 39: '2', 32: '0.025', 31: px, 14: '0.1', 151: '0', 6: px },
    ];
    for (let i = 0; i < pieces.length; i++) {
      const made = await sell(pieces[i], px);
      expect(made.map((x) => [uuidOf(x.orderId), x.qty])).toEqual([[ack.get(37), pieces[i]]]);
      await waitUntil(client, () => fillsOf('DZ-FL-1').length > i, 8000, `fill ${i + 1} of DZ-FL-1`);
      expect(f(fillsOf('DZ-FL-1')[i], 150, 39, 32, 31, 14, 151, 6)).toEqual(expected[i]);
    }
    await sleep(2500);
    expect(fillsOf('DZ-FL-1')).toHaveLength(3);
    const ids = live('DZ-FL-1').map((m) => m.get(17));
    expect(new Set(ids).size).toBe(ids.length);
    expect((await venueOrder(ack.get(37)!)).status).toBe('filled');
    checkInvariants();
  });

  test('two trades between two polls: still one fill ER per venue trade, in order, CumQty exact', async () => {
    const px = nextBid();
    const ack = await resting('DZ-FL-3', { qty: '0.2', price: px });
    await sell('0.05', px);
    await sell('0.07', px);
    await waitUntil(client, () => fillsOf('DZ-FL-3').length >= 2, 8000, 'two fills of DZ-FL-3');
    await sleep(2500);
    expect(fillsOf('DZ-FL-3').map((m) => f(m, 150, 32, 31, 14, 151))).toEqual([
      { 150: '1', 32: '0.05', 31: px, 14: '0.05', 151: '0.15' },
      { 150: '1', 32: '0.07', 31: px, 14: '0.12', 151: '0.08' },
    ]);
    expect((await venueOrder(ack.get(37)!)).cumQty).toBe('0.12');
    checkInvariants();
  });

  test('a crossing order fills at three price levels: one fill ER per venue trade at its own LastPx, AvgPx exact (60000.018)', async () => {
    nos('DZ-FL-2', { qty: '2.5', price: '60000.03' });
    const last = await er('DZ-FL-2', execType('2'));
    await sleep(2500);
    const v = await venueOrder(last.get(37)!);
    expect(v.fills.map((x) => [x.qty, x.price])).toEqual([['1', '60000.01'], ['1', '60000.02'], ['0.5', '60000.03']]);
    expect(f(last, 39, 14, 151, 6)).toEqual({ 39: '2', 14: '2.5', 151: '0', 6: '60000.018' });
    expect(fillsOf('DZ-FL-2').map((m) => [m.get(32), m.get(31), m.get(6)])).toEqual([
      ['1', '60000.01', '60000.01'],
      ['1', '60000.02', '60000.015'],
      ['0.5', '60000.03', '60000.018'],
    ]);
    expect(live('DZ-FL-2').map((m) => m.get(150))).toEqual(['0', '1', '1', '2']);
    checkInvariants();
  });

  test('a market sell fills at the best bid (executedQty negative on the wire): 150=2 with the trade price', async () => {
    nos('DZ-MKT-1', { ordType: '1', side: '2', qty: '0.5', tif: '4' });
    const fill = await er('DZ-MKT-1', execType('2'));
    expect(f(fill, 39, 32, 31, 14, 151, 6, 54)).toEqual({ 39: '2', 32: '0.5', 31: '59999.99', 14: '0.5', 151: '0', 6: '59999.99', 54: '2' });
    expect(await venueOrder(fill.get(37)!)).toMatchObject({ side: 'sell', type: 'market', status: 'filled', cumQty: '0.5' });
    await sleep(2500);
    expect(fillsOf('DZ-MKT-1')).toHaveLength(1);
    checkInvariants();
  });

  test('EXPIRED → 150=C: an IOC limit fills what it can and the rest expires; a FOK that cannot fill expires with nothing done', async () => {
    nos('DZ-IOC-1', { qty: '1.5', price: '60000.01', tif: '3' });
    const expired = await er('DZ-IOC-1', execType('C'));
    expect(f(expired, 39, 14, 151, 6)).toEqual({ 39: 'C', 14: '1', 151: '0', 6: '60000.01' });
    expect(fillsOf('DZ-IOC-1').map((m) => f(m, 150, 32, 31, 14, 151))).toEqual([{ 150: '1', 32: '1', 31: '60000.01', 14: '1', 151: '0.5' }]);
    expect(await venueOrder(expired.get(37)!)).toMatchObject({ status: 'expired', cumQty: '1' });

    nos('DZ-FOK-1', { qty: '0.1', price: '59000', tif: '4' });
    const fok = await er('DZ-FOK-1', (m) => m.get(20) === '0' && m.get(150) !== '0');
    expect(f(fok, 150, 39, 14, 151)).toEqual({ 150: 'C', 39: 'C', 14: '0', 151: '0' });
    await sleep(2500);
    expect(live('DZ-IOC-1').filter((m) => m.get(150) === 'C')).toHaveLength(1);
    expect(live('DZ-FOK-1').filter((m) => m.get(150) === 'C')).toHaveLength(1);
    expect((await status('DZ-IOC-1')).get(39)).toBe('C');
    checkInvariants();
  });

  test('local rejects (no venue call): bad tick → 103=0, unknown symbol → 103=1, bad step → 103=0, each with a Text naming the problem', async () => {
    const before = (await simProc.control.orders()).length;
    nos('DZ-LR-TICK', { qty: '0.1', price: '50000.001' });
    nos('DZ-LR-SYM', { qty: '1', price: '10', symbol: 'BTCUSD' });
    nos('DZ-LR-STEP', { qty: '0.00015', price: '50000' });
    const tick = await er('DZ-LR-TICK');
    const sym = await er('DZ-LR-SYM');
    const step = await er('DZ-LR-STEP');
    for (const m of [tick, sym, step]) expect(f(m, 150, 39, 14, 151, 20, 37)).toEqual({ 150: '8', 39: '8', 14: '0', 151: '0', 20: '0', 37: 'NONE' });
    expect(tick.get(103)).toBe('0');
    expect(tick.get(58)).toMatch(/50000\.001.*tick size 0\.01/);
    expect(sym.get(103)).toBe('1');
    expect(sym.get(58)).toMatch(/Unknown symbol BTCUSD/);
    expect(step.get(103)).toBe('0');
    expect(step.get(58)).toMatch(/0\.00015.*step size 0\.0001/);
    await sleep(200);
    expect((await simProc.control.orders()).length).toBe(before);
    checkInvariants();
  });

  test('venue reject: a market order under the venue minimum notional (-1013) → 150=8/39=8 with the venue code and text in 58', async () => {
    const before = (await simProc.control.orders()).length;
    nos('DZ-VR-1', { symbol: 'ETH/USD', ordType: '1', qty: '0.001', tif: '4' });
    const rej = await er('DZ-VR-1', execType('8'));
    expect(f(rej, 39, 14, 151, 55)).toEqual({ 39: '8', 14: '0', 151: '0', 55: 'ETH/USD' });
    expect(rej.get(58)).toMatch(/-1013.*MIN_NOTIONAL/);
    await sleep(300);
    expect(live('DZ-VR-1').map((m) => m.get(150))).toEqual(['8']);
    expect((await simProc.control.orders()).length).toBe(before);
    checkInvariants();
  });

  test('duplicate ClOrdID: 150=8/39=8 with 103=6; the original order and the venue are untouched', async () => {
    const px = nextBid();
    const ack = await resting('DZ-DUP-1', { qty: '0.2', price: px });
    const before = (await simProc.control.orders()).length;
    nos('DZ-DUP-1', { qty: '0.3', price: nextBid() });
    const rej = await er('DZ-DUP-1', execType('8'));
    expect(f(rej, 11, 39, 103, 14, 151, 38)).toEqual({ 11: 'DZ-DUP-1', 39: '8', 103: '6', 14: '0', 151: '0', 38: '0.3' });
    expect(rej.get(58)).toMatch(/Duplicate ClOrdID DZ-DUP-1/);
    await sleep(200);
    expect((await simProc.control.orders()).length).toBe(before);
    const s = await status('DZ-DUP-1');
    expect(f(s, 39, 150, 14, 151, 38, 44)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.2', 38: '0.2', 44: px });
    expect((await venueOrder(ack.get(37)!)).status).toBe('new');
    checkInvariants();
  });

  test('PossDup resend of a NewOrderSingle (new MsgSeqNum, original MsgSeqNum, PossResend) creates no second venue order', async () => {
    const px = nextBid();
    const first = nos('DZ-PD-1', { qty: '0.11', price: px });
    const ack = await er('DZ-PD-1', execType('0'));
    const before = await simProc.control.orders();
    const body = first.body.map((x) => [x.tag, x.value] as [number, string]);
    client.send('D', body, { possDup: true, origSendingTime: first.sendingTime });
    client.send('D', body, { seqNum: first.seqNum, possDup: true, origSendingTime: first.sendingTime });
    client.send('D', body, { header: [[97, 'Y']] });
    const s = await status('DZ-PD-1');
    expect(f(s, 39, 150, 14, 151)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.11' });
    await sleep(500);
    const after = await simProc.control.orders();
    expect(after.length).toBe(before.length);
    expect(after.filter((o) => o.price === px)).toHaveLength(1);
    expect(uuidOf(after.find((o) => o.price === px)!.orderId)).toBe(ack.get(37));
    expect(live('DZ-PD-1').map((m) => m.get(150))).toEqual(['0']);
    expect(client.received.slice(thisTest.rxFrom).filter((m) => ['3', 'j', '5', '9'].includes(m.msgType))).toEqual([]);
    expect(client.closedNow).toBe(false);
    checkInvariants();
  });

  test('cancel of a resting LIMIT: 150=4/39=4 (after a 150=6 if the gateway sends one), 11 = cancel ClOrdID, 41 = original; the venue order is canceled', async () => {
    const ack = await resting('DZ-CX-1', { qty: '0.3', price: nextBid() });
    client.send('F', cancelFields('DZ-CX-1-C', 'DZ-CX-1', { symbol: SYMBOL }));
    const done = await er('DZ-CX-1-C', execType('4'));
    const kinds = live('DZ-CX-1').map((m) => m.get(150));
    expect([['0', '6', '4'], ['0', '4']]).toContainEqual(kinds);
    expect(f(done, 11, 41, 39, 150, 14, 151, 37)).toEqual({ 11: 'DZ-CX-1-C', 41: 'DZ-CX-1', 39: '4', 150: '4', 14: '0', 151: '0', 37: ack.get(37) });
    expect((await venueOrder(ack.get(37)!)).status).toBe('canceled');
    expect(f(await status('DZ-CX-1'), 39, 150, 14, 151)).toEqual({ 39: '4', 150: '4', 14: '0', 151: '0' });
    await sleep(2500);
    expect(live('DZ-CX-1').filter((m) => m.get(150) === '4')).toHaveLength(1);
    checkInvariants();
  });

  test('partial fill (polled) then cancel: 150=4/39=4 with CumQty kept and LeavesQty 0', async () => {
    const px = nextBid();
    const ack = await resting('DZ-PC-1', { qty: '0.5', price: px });
    await sell('0.2', px);
    await er('DZ-PC-1', execType('1'));
    client.send('F', cancelFields('DZ-PC-1-C', 'DZ-PC-1', { symbol: SYMBOL }));
    const done = await er('DZ-PC-1-C', execType('4'));
    expect(f(done, 11, 41, 39, 14, 151, 6)).toEqual({ 11: 'DZ-PC-1-C', 41: 'DZ-PC-1', 39: '4', 14: '0.2', 151: '0', 6: px });
    expect(await venueOrder(ack.get(37)!)).toMatchObject({ status: 'canceled', cumQty: '0.2' });
    checkInvariants();
  });

  test('cancel rejects: unknown order → 102=1; a filled order → 102=0 (too late) with 39=2', async () => {
    client.send('F', cancelFields('DZ-CR-U-C', 'DZ-CR-UNKNOWN', { symbol: SYMBOL }));
    const unknown = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'DZ-CR-U-C', { from: thisTest.rxFrom });
    expect(f(unknown, 11, 41, 434, 102, 39, 37)).toEqual({ 11: 'DZ-CR-U-C', 41: 'DZ-CR-UNKNOWN', 434: '1', 102: '1', 39: '8', 37: 'NONE' });

    const px = nextBid();
    const ack = await resting('DZ-CR-F', { qty: '0.05', price: px });
    await sell('0.05', px);
    await er('DZ-CR-F', execType('2'));
    client.send('F', cancelFields('DZ-CR-F-C', 'DZ-CR-F', { symbol: SYMBOL }));
    const late = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'DZ-CR-F-C', { from: thisTest.rxFrom });
    expect(f(late, 11, 41, 434, 102, 39, 37)).toEqual({ 11: 'DZ-CR-F-C', 41: 'DZ-CR-F', 434: '1', 102: '0', 39: '2', 37: ack.get(37) });
    checkInvariants();
  });

  test('cancel of a live non-LIMIT order is refused 35=9 102=2 (the venue cancels LIMIT only), the order is untouched and ends filled, found by content', async () => {
    // A market order whose create hangs at the venue (which fills it): it is live (pending) for the
    // gateway while the cancel arrives.
    await simProc.control.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 20_000 });
    const before = (await simProc.control.orders()).length;
    nos('DZ-MC-1', { ordType: '1', qty: '0.3', tif: '4' });
    await sleep(500);
    client.send('F', cancelFields('DZ-MC-1-C', 'DZ-MC-1', { symbol: SYMBOL, qty: '0.3' }));
    const rej = await waitForMessage(client, (m) => m.msgType === '9' && m.get(11) === 'DZ-MC-1-C', { from: thisTest.rxFrom });
    expect(f(rej, 11, 41, 434, 102)).toEqual({ 11: 'DZ-MC-1-C', 41: 'DZ-MC-1', 434: '1', 102: '2' });
    expect(rej.get(58)).toMatch(/cannot cancel market orders/);
    const fill = await er('DZ-MC-1', execType('2'), 20_000);
    expect(f(fill, 39, 32, 31, 14, 151, 6)).toEqual({ 39: '2', 32: '0.3', 31: '60000.01', 14: '0.3', 151: '0', 6: '60000.01' });
    const after = await simProc.control.orders();
    expect(after.length).toBe(before + 1);
    expect(uuidOf(after[after.length - 1].orderId)).toBe(fill.get(37));
    expect(live('DZ-MC-1').filter((m) => m.get(150) === '4')).toHaveLength(0);
    checkInvariants();
  });

  test('5xx after create (the venue placed the order, then answered 500): 150=A, then 150=0 found by content; exactly one venue order; it trades normally', async () => {
    await simProc.control.armFaults({ kind: 'error5xxAfter', operation: 'create' });
    const before = (await simProc.control.orders()).length;
    const px = nextBid();
    nos('DZ-U5-1', { qty: '0.13', price: px });
    const ack = await er('DZ-U5-1', execType('0'), 15_000);
    expect(live('DZ-U5-1').map((m) => m.get(150))).toEqual(['A', '0']);
    expect(f(live('DZ-U5-1')[0], 39, 14, 151, 37)).toEqual({ 39: 'A', 14: '0', 151: '0.13', 37: 'NONE' });
    expect(await simProc.control.pendingFaults()).toEqual([]);
    const after = await simProc.control.orders();
    expect(after.length).toBe(before + 1);
    expect(await venueOrder(ack.get(37)!)).toMatchObject({ status: 'new', price: px, qty: '0.13' });
    await sell('0.13', px);
    const fill = await er('DZ-U5-1', execType('2'));
    expect(f(fill, 32, 31, 14, 151, 6)).toEqual({ 32: '0.13', 31: px, 14: '0.13', 151: '0', 6: px });
    expect(gw.logs().filter((e) => e.msg === 'create outcome unknown; resolving through the venue' && e.clOrdId === 'DZ-U5-1')).toHaveLength(1);
    checkInvariants();
  });

  test('timeout after create (the venue placed the order and never answered): 150=A after the request timeout, then 150=0 found by content; exactly one venue order', async () => {
    await simProc.control.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 20_000 });
    const before = (await simProc.control.orders()).length;
    const sentAt = Date.now();
    const px = nextBid();
    nos('DZ-UT-1', { qty: '0.14', price: px });
    const ack = await er('DZ-UT-1', execType('0'), 20_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(4_500);
    expect(live('DZ-UT-1').map((m) => m.get(150))).toEqual(['A', '0']);
    expect((await simProc.control.orders()).length).toBe(before + 1);
    expect(await venueOrder(ack.get(37)!)).toMatchObject({ status: 'new', price: px, qty: '0.14' });
    expect(f(await status('DZ-UT-1'), 39, 150, 14, 151)).toEqual({ 39: '0', 150: '0', 14: '0', 151: '0.14' });
    checkInvariants();
  });

  test('5xx before create (the venue did nothing): 150=A, then 150=8 only after the venue has said "not found" for longer than its request validity (recvWindow + 1 s); no venue order', async () => {
    await simProc.control.armFaults({ kind: 'error5xxBefore', operation: 'create' });
    const before = (await simProc.control.orders()).length;
    const sentAt = Date.now();
    nos('DZ-U5-2', { qty: '0.15', price: nextBid() });
    await er('DZ-U5-2', execType('A'));
    const rej = await er('DZ-U5-2', execType('8'), 20_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(6_000);
    expect(f(rej, 39, 14, 151)).toEqual({ 39: '8', 14: '0', 151: '0' });
    expect(live('DZ-U5-2').map((m) => m.get(150))).toEqual(['A', '8']);
    expect((await simProc.control.orders()).length).toBe(before);
    checkInvariants();
  });

  test('two orders with identical content, the first with an unknown outcome: the second waits until the first is found, and each gets its own venue order (never the wrong match)', async () => {
    await simProc.control.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 20_000 });
    const before = (await simProc.control.orders()).length;
    const px = nextBid();
    nos('DZ-SAME-1', { qty: '0.17', price: px });
    await sleep(300);
    nos('DZ-SAME-2', { qty: '0.17', price: px });
    // The second is not placed while the first is unresolved.
    await sleep(2000);
    expect((await simProc.control.orders()).length).toBe(before + 1);
    const ack1 = await er('DZ-SAME-1', execType('0'), 20_000);
    const ack2 = await er('DZ-SAME-2', execType('0'), 20_000);
    const after = (await simProc.control.orders()).slice(before);
    expect(after).toHaveLength(2);
    // The venue order created first is the first order's.
    expect([ack1.get(37), ack2.get(37)]).toEqual(after.map((o) => uuidOf(o.orderId)));
    expect(ack1.get(37)).not.toBe(ack2.get(37));
    expect(live('DZ-SAME-2').map((m) => m.get(150))).toEqual(['0']);
    // A trade fills the older one first (price-time priority): reported on DZ-SAME-1 only.
    await sell('0.17', px);
    await er('DZ-SAME-1', execType('2'));
    await sleep(2500);
    expect(fillsOf('DZ-SAME-2')).toHaveLength(0);
    expect(f(await status('DZ-SAME-2'), 39, 14)).toEqual({ 39: '0', 14: '0' });
    checkInvariants();
  });

  test('unknown outcome with two venue orders of the same content (another desk on the account placed the twin): 150=A, no guess, until the twin is gone; then 150=0 with our venue order', async () => {
    const otherDesk = new DzengiRestClient({ restUrl: simProc.restUrl, apiKey: 'sim-dzengi-key', apiSecret: 'sim-dzengi-secret' });
    try {
      await simProc.control.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 20_000 });
      const px = nextBid();
      nos('DZ-AMB-1', { qty: '0.18', price: px });
      let ours: SimOrderView | undefined;
      for (let i = 0; !ours; i++) {
        if (i > 100) throw new Error('the venue never got DZ-AMB-1');
        await sleep(20);
        ours = (await venueOrders()).find((o) => o.price === px);
      }
      const twin = await otherDesk.createOrder({ symbol: SYMBOL, side: 'buy', type: 'limit', quantity: '0.18', price: px, timeInForce: 'GTC' });
      expect(twin.venueOrderId).not.toBe(uuidOf(ours.orderId));
      await er('DZ-AMB-1', execType('A'), 15_000);
      await gw.waitForLog((e) => e.msg === 'several venue orders match by content; not guessing' && e.clOrdId === 'DZ-AMB-1', 10_000);
      await sleep(1500);
      expect(live('DZ-AMB-1').map((m) => m.get(150))).toEqual(['A']);
      expect(f(await status('DZ-AMB-1'), 39, 150, 37)).toEqual({ 39: 'A', 150: 'A', 37: 'NONE' });
      // The other desk cancels its twin (no trade): only ours matches now.
      await otherDesk.cancelOrder({ venueOrderId: twin.venueOrderId, symbol: SYMBOL });
      const ack = await er('DZ-AMB-1', execType('0'), 15_000);
      expect(ack.get(37)).toBe(uuidOf(ours.orderId));
      await sell('0.18', px);
      const fill = await er('DZ-AMB-1', execType('2'));
      expect(f(fill, 32, 31, 14, 37)).toEqual({ 32: '0.18', 31: px, 14: '0.18', 37: uuidOf(ours.orderId) });
      expect((await venueOrder(twin.venueOrderId)).status).toBe('canceled');
      checkInvariants();
    } finally {
      otherDesk.close();
    }
  });

  test('the FIX invariants hold over every ExecutionReport of the session', () => {
    const r = expectFixInvariants(rec, 0);
    expect(r.executionReports).toBeGreaterThan(40);
  });
});
