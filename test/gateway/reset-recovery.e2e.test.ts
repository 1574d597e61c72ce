// A sequence reset must not throw away reports the client never received. Over real TCP to the
// gateway process on the HashKey simulator: orders rest, the client proves it read the acks
// (it answers the gateway's TestRequest), logs out, the venue fills while it is away, and the
// client logs on again with ResetSeqNumFlag (141=Y). It must then receive, on the new sequence,
// the fills it missed (PossResend 97=Y, original ExecIDs) and a restatement (150=D, 378=1) of
// every order still open, with the current status and quantities; not the acks it had already read.
import { FixMsg, FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';
import { CLIENT_COMP_ID, GATEWAY_COMP_ID, SimControl, gatewayConfig, killAllSimulators, nosFields, waitForMessage, waitUntil } from '../support/gateway-e2e';

jest.setTimeout(40_000);

let gw: GatewayProcess;
let sim: SimControl;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  gw = await startGatewayProcess({ config: gatewayConfig({ VenueSimulatorPort: '{{PORT2}}' }), portCount: 2 });
  sim = new SimControl(`http://127.0.0.1:${gw.ports[1]}`);
  await gw.waitForLog((e) => e.msg === 'venue ready', 10_000);
  for (let i = 0; (await sim.streams()) < 1; i++) {
    if (i > 100) throw new Error(`gateway never connected its user stream\n${gw.describe()}`);
    await sleep(50);
  }
});

afterAll(async () => {
  await killAllGateways();
  await killAllSimulators();
  if (gw) removeDir(gw.dir);
});

test('after a 141=Y Logon the client receives the fills made while it was away (97=Y, original ExecIDs) and a restatement of every open order', async () => {
  const client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID, autoAnswerTestRequest: true });
  await client.logon({ heartBtInt: 1 });
  const ack = (id: string) => waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === id && m.get(150) === '0', { what: `ack of ${id}` });
  // Highest bid first: an external sell hits RR-FULL, then RR-PART; RR-IDLE (lowest) is never reached.
  client.send('D', nosFields('RR-FULL', { qty: '0.1', price: '45000.5' }));
  client.send('D', nosFields('RR-PART', { qty: '0.5', price: '45000' }));
  client.send('D', nosFields('RR-IDLE', { qty: '0.3', price: '44000' }));
  const acks = [await ack('RR-FULL'), await ack('RR-PART'), await ack('RR-IDLE')];
  // The gateway proves delivery with a TestRequest (the client is quiet for 1.2 x HeartBtInt); the client answers it.
  const from = client.received.length;
  await waitForMessage(client, (m) => m.msgType === '1', { from, timeoutMs: 4000, what: 'TestRequest' });
  await sleep(300);
  await client.logout();

  const fills = await sim.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.3', price: '45000' });
  expect(fills.length).toBeGreaterThanOrEqual(2);
  await sleep(1500); // the gateway hears the fills on its venue stream and stores their ERs

  await client.reconnect();
  client.expectedSeqNum = 1;
  const reconnectedAt = client.received.length;
  const logon = await client.logon({ heartBtInt: 30, resetSeqNum: true });
  expect(logon.seqNum).toBe(1);
  expect(logon.get(141)).toBe('Y');

  const after = () => client.received.slice(reconnectedAt).filter((m) => m.msgType === '8');
  const restated = (id: string) => after().find((m) => m.get(11) === id && m.get(150) === 'D');
  await waitUntil(client, () => restated('RR-PART') !== undefined && restated('RR-IDLE') !== undefined, 5000, 'restatements');
  await sleep(300);
  const reports = after();

  // Missed fills: re-sent with 97=Y and the ExecIDs they had, on the new sequence (no 43=Y).
  const resent = reports.filter((m) => m.get(97) === 'Y');
  expect(resent.map((m) => [m.get(11), m.get(150), m.get(39)])).toEqual([
    ['RR-FULL', '2', '2'],
    ['RR-PART', '1', '1'],
  ]);
  for (const m of resent) expect(m.possDup).toBe(false);
  expect(resent[0].get(32)).toBe('0.1');
  expect(resent[1].get(32)).toBe('0.2');
  expect(resent[1].get(14)).toBe('0.2');
  // The acks the client read before its TestRequest answer are not sent again.
  const ackIds = new Set(acks.map((m) => m.get(17)));
  expect(reports.filter((m) => ackIds.has(m.get(17)!))).toEqual([]);

  // Restatements: every open order, current status and quantities, new ExecIDs; none for the filled order.
  const part = restated('RR-PART')!;
  const idle = restated('RR-IDLE')!;
  expect(restated('RR-FULL')).toBeUndefined();
  expect(fieldsOf(part, 20, 39, 14, 151, 6, 378, 97)).toEqual({ 20: '0', 39: '1', 14: '0.2', 151: '0.3', 6: '45000', 378: '1', 97: undefined });
  expect(fieldsOf(idle, 20, 39, 14, 151, 378)).toEqual({ 20: '0', 39: '0', 14: '0', 151: '0.3', 378: '1' });
  const execIds = client.received.filter((m) => m.msgType === '8' && m.get(97) !== 'Y').map((m) => m.get(17));
  expect(new Set(execIds).size).toBe(execIds.length);
  // Everything in order on the new sequence: no gaps.
  expect(client.gaps).toEqual([]);
  await client.logout();
});

function fieldsOf(m: FixMsg, ...tags: number[]): Record<number, string | undefined> {
  const out: Record<number, string | undefined> = {};
  for (const t of tags) out[t] = m.get(t);
  return out;
}
