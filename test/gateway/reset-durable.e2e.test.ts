// A sequence reset that happens while the client is away (ResetOnLogout) owes the client the
// reports of the old sequence it never provably read (reset-recovery.ts). Over real TCP to the
// gateway process, against a HashKey simulator child that outlives it:
//  - that debt survives a SIGKILL of the gateway between the reset and the client's next Logon;
//  - the re-sent reports come before every report of the new sequence, so a fill made after the
//    reset never reaches the client ahead of an older report (CumQty never goes backwards).
// The client never answers a TestRequest here (HeartBtInt 30): nothing it read is proven delivered.
import { FixMsg, FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';
import {
  CLIENT_COMP_ID,
  GATEWAY_COMP_ID,
  SimulatorProcess,
  autoAnswerResendRequests,
  gatewayConfig,
  killAllSimulators,
  logonAndSync,
  nosFields,
  sessionEventLog,
  startSimulatorProcess,
  waitForFileLine,
  waitForMessage,
  waitUntil,
} from '../support/gateway-e2e';

jest.setTimeout(40_000);

let simProc: SimulatorProcess;
const dirs: string[] = [];
const clients: FixTestClient[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  simProc = await startSimulatorProcess();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await killAllGateways();
});

afterAll(async () => {
  await killAllGateways();
  await simProc?.stop().catch(() => undefined);
  await killAllSimulators();
  for (const d of dirs) removeDir(d);
});

async function startGateway(prev?: GatewayProcess): Promise<GatewayProcess> {
  const config = gatewayConfig(
    { VenueRestUrl: simProc.restUrl, VenueWsUrl: simProc.wsUrl, VenueRateLimitOrders: 1000, VenueRateLimitQueries: 1000 },
    { ResetOnLogout: 'Y' },
  );
  const gw = await startGatewayProcess({ config, dir: prev?.dir, ports: prev ? [...prev.ports] : undefined });
  if (!prev) dirs.push(gw.dir);
  await gw.waitForLog((e) => e.msg === 'venue ready', 10_000);
  return gw;
}

async function connect(port: number): Promise<FixTestClient> {
  const client = await FixTestClient.connect({ port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
  clients.push(client);
  autoAnswerResendRequests(client);
  return client;
}

/** Logs on after a ResetOnLogout (both sides start again at 1) and fetches what the gateway stored meanwhile. */
async function logonAfterReset(client: FixTestClient, port: number): Promise<number> {
  await client.reconnect(port);
  client.nextSeqNum = 1;
  client.expectedSeqNum = 1;
  const from = client.received.length;
  await logonAndSync(client);
  return from;
}

/** An order resting at the venue, partly filled while the client is logged on (it reads the ack and the fill). */
async function restingOrderWithFill(client: FixTestClient, clOrdId: string, price: string): Promise<FixMsg[]> {
  client.send('D', nosFields(clOrdId, { qty: '0.5', price }));
  const ack = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === clOrdId && m.get(150) === '0', { what: `ack of ${clOrdId}` });
  await simProc.control.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.1', price });
  const fill = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === clOrdId && m.get(150) === '1', { what: `fill of ${clOrdId}` });
  return [ack, fill];
}

const view = (m: FixMsg) => [m.get(150), m.get(39), m.get(14), m.get(97) ?? 'N'];

test('reports owed by a ResetOnLogout reset survive a SIGKILL before the next Logon: sent again (97=Y, original ExecIDs), then the restatement', async () => {
  let gw = await startGateway();
  const client = await connect(gw.port);
  await client.logon({ heartBtInt: 30 });
  const [ack, fill] = await restingOrderWithFill(client, 'RD-A', '41000');

  const events = sessionEventLog(gw.dir);
  await client.logout();
  await waitForFileLine(events, /Sequence numbers reset \(ResetOnLogout\)/);
  await gw.kill('SIGKILL');
  gw = await startGateway(gw);

  const from = await logonAfterReset(client, gw.port);
  const reports = () => client.received.slice(from).filter((m) => m.msgType === '8' && m.get(11) === 'RD-A');
  await waitUntil(client, () => reports().some((m) => m.get(150) === 'D'), 5000, 'restatement of RD-A');
  await sleep(300);
  expect(reports().map(view)).toEqual([
    ['0', '0', '0', 'Y'],
    ['1', '1', '0.1', 'Y'],
    ['D', '1', '0.1', 'N'],
  ]);
  expect(reports().slice(0, 2).map((m) => m.get(17))).toEqual([ack.get(17), fill.get(17)]);
  expect(reports()[2].get(378)).toBe('1');
  expect(reports()[2].get(151)).toBe('0.4');
  await client.logout();
});

test('after a ResetOnLogout reset, the re-sent older reports come before a fill made while the client was away', async () => {
  const gw = await startGateway();
  const client = await connect(gw.port);
  await client.logon({ heartBtInt: 30 });
  await restingOrderWithFill(client, 'RD-B', '42000');

  const events = sessionEventLog(gw.dir);
  await client.logout();
  await waitForFileLine(events, /Sequence numbers reset \(ResetOnLogout\)/);
  await simProc.control.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.2', price: '42000' });
  await sleep(1500); // the gateway hears the fill on its venue stream and stores its ER

  const from = await logonAfterReset(client, gw.port);
  const reports = () => client.received.slice(from).filter((m) => m.msgType === '8' && m.get(11) === 'RD-B');
  await waitUntil(client, () => reports().some((m) => m.get(14) === '0.3'), 5000, 'fill 0.3 of RD-B');
  await sleep(300);
  // In sequence order, as the client's engine delivers them (each seqnum once: a resend of a message also received live is dropped).
  const bySeq = new Map<number, FixMsg>();
  for (const m of reports()) if (!bySeq.has(m.seqNum)) bySeq.set(m.seqNum, m);
  const inOrder = [...bySeq.values()].sort((a, b) => a.seqNum - b.seqNum);
  expect(inOrder.map(view)).toEqual([
    ['0', '0', '0', 'Y'],
    ['1', '1', '0.1', 'Y'],
    ['D', '1', '0.1', 'N'],
    ['1', '1', '0.3', 'N'],
  ]);
  await client.logout();
});
