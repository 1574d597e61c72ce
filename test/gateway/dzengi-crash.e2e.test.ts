// End to end on Dzengi across a crash: the gateway process is SIGKILLed with open orders and
// restarted on the same store, while the Dzengi simulator keeps running as its own child. Dzengi
// has no client order id and pushes nothing about our orders, so after the restart the gateway
// knows its orders only by the venue ids in its durable book (or, for a create that never got a
// reply, by content) and learns what happened through the poller. Every venue trade must be
// reported exactly once, across both gateway lives.
import { FixMsg, FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';
import {
  CLIENT_COMP_ID,
  FixRecorder,
  GATEWAY_COMP_ID,
  NosFields,
  SimulatorProcess,
  autoAnswerResendRequests,
  cancelFields,
  expectFixInvariants,
  gatewayConfig,
  killAllSimulators,
  logonAndSync,
  nosFields,
  startSimulatorProcess,
  statusFields,
  waitForMessage,
  waitUntil,
} from '../support/gateway-e2e';

jest.setTimeout(60_000);

let simProc: SimulatorProcess;
const dirs: string[] = [];
const clients: FixTestClient[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  simProc = await startSimulatorProcess({ venue: 'dzengi' });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await killAllGateways();
  await simProc?.control.clearFaults().catch(() => undefined);
});

afterAll(async () => {
  await killAllGateways();
  await simProc?.stop().catch(() => undefined);
  await killAllSimulators();
  for (const d of dirs) removeDir(d);
});

async function startGateway(prev?: GatewayProcess): Promise<GatewayProcess> {
  const gw = await startGatewayProcess({
    config: gatewayConfig({ Venue: 'dzengi', VenueRestUrl: simProc.restUrl, VenueWsUrl: simProc.wsUrl }),
    dir: prev?.dir,
    ports: prev ? [...prev.ports] : undefined,
  });
  if (!prev) dirs.push(gw.dir);
  await gw.waitForLog((e) => e.msg === 'venue ready', 10_000);
  return gw;
}

async function connectClient(port: number): Promise<{ client: FixTestClient; rec: FixRecorder }> {
  const client = await FixTestClient.connect({ port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
  clients.push(client);
  const rec = new FixRecorder(client);
  autoAnswerResendRequests(client);
  await logonAndSync(client);
  return { client, rec };
}

function f(m: FixMsg, ...tags: number[]): Record<number, string | undefined> {
  const out: Record<number, string | undefined> = {};
  for (const t of tags) out[t] = m.get(t);
  return out;
}

/** Live ERs for an order as an application takes them: a PossDup copy of a report already received is dropped (after checking it is the same). */
function liveReports(client: FixTestClient, clOrdId: string): FixMsg[] {
  const byExecId = new Map<string, FixMsg>();
  const out: FixMsg[] = [];
  for (const m of client.received) {
    if (m.msgType !== '8' || m.get(20) !== '0' || (m.get(11) !== clOrdId && m.get(41) !== clOrdId)) continue;
    const id = m.get(17)!;
    const seen = byExecId.get(id);
    if (seen) {
      if (!m.possDup) throw new Error(`ExecID ${id} sent twice without PossDup:\n${seen}\n${m}`);
      expect(f(m, 14, 32, 31, 39, 150, 151)).toEqual(f(seen, 14, 32, 31, 39, 150, 151));
      continue;
    }
    byExecId.set(id, m);
    out.push(m);
  }
  return out.sort((a, b) => Number(a.get(34)) - Number(b.get(34)));
}

function fillReports(client: FixTestClient, clOrdId: string): FixMsg[] {
  return liveReports(client, clOrdId).filter((m) => m.get(150) === '1' || m.get(150) === '2');
}

async function status(client: FixTestClient, clOrdId: string, o: { symbol: string; side: '1' | '2' }): Promise<FixMsg> {
  const from = client.received.length;
  client.send('H', statusFields(clOrdId, o));
  return waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === clOrdId && m.get(20) === '3', { from, what: `status of ${clOrdId}` });
}

function uuidOf(engineId: string): string {
  if (!/^\d+$/.test(engineId)) return engineId;
  const hex = BigInt(engineId).toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe('Dzengi: gateway SIGKILLed and restarted while the venue (simulator child) keeps trading', () => {
  test('fills made while the gateway is down and after its restart are reported once each (polled), CumQty correct, ExecIDs unique; status and cancel work after the restart', async () => {
    const sim = simProc.control;
    const ORDERS: Record<string, NosFields> = {
      // One symbol per order, so an external trade can only reach the order it is meant for.
      'DK-A': { symbol: 'BTC/USD', side: '1', qty: '0.5', price: '59000' },
      'DK-B': { symbol: 'ETH/USD', side: '1', qty: '2', price: '2900.5' },
      'DK-C': { symbol: 'LTC/BTC', side: '2', qty: '10', price: '0.0013' },
    };
    const ref = (cl: string) => ({ symbol: ORDERS[cl].symbol!, side: ORDERS[cl].side! });

    let gw = await startGateway();
    const { client, rec } = await connectClient(gw.port);
    const acks: Record<string, FixMsg> = {};
    for (const [cl, o] of Object.entries(ORDERS)) client.send('D', nosFields(cl, o));
    for (const cl of Object.keys(ORDERS)) {
      acks[cl] = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === cl && m.get(150) === '0', { what: `ack of ${cl}` });
    }
    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.1', price: '59000' });
    await waitUntil(client, () => fillReports(client, 'DK-A').length === 1, 8000, 'first fill of DK-A (polled)');

    await gw.kill('SIGKILL');
    await client.waitClosed(5000);

    expect(await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.15', price: '59000' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'ETH/USD', side: 'sell', qty: '2', price: '2900.5' })).toHaveLength(1);
    expect(await sim.trade({ symbol: 'LTC/BTC', side: 'buy', qty: '4', price: '0.0013' })).toHaveLength(1);

    gw = await startGateway(gw);
    await client.reconnect(gw.port);
    await logonAndSync(client);
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
    const sim = simProc.control;
    let gw = await startGateway();
    const { client, rec } = await connectClient(gw.port);
    await sim.armFaults({ kind: 'timeoutAfter', operation: 'create', holdMs: 30_000 });
    const price = '58000.75';
    const before = (await sim.orders({ symbol: 'BTC/USD' })).length;
    client.send('D', nosFields('DK-U', { symbol: 'BTC/USD', qty: '0.3', price }));
    let venueId: string | undefined;
    for (let i = 0; !venueId; i++) {
      if (i > 100) throw new Error('the venue never got the order');
      await sleep(20);
      const o = (await sim.orders({ symbol: 'BTC/USD' })).find((x) => x.price === price);
      venueId = o && uuidOf(o.orderId);
    }
    await sleep(100);
    await gw.kill('SIGKILL');
    await client.waitClosed(5000);
    expect(client.received.filter((m) => m.msgType === '8' && m.get(11) === 'DK-U')).toEqual([]);

    await sim.trade({ symbol: 'BTC/USD', side: 'sell', qty: '0.1', price });

    gw = await startGateway(gw);
    await client.reconnect(gw.port);
    await logonAndSync(client);
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
