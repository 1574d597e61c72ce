// The venue client order id a NewOrderSingle gets from its own sequence id and MsgSeqNum
// (venueClientOrderIdForMessage) names one message only while a MsgSeqNum is never received twice
// in a sequence. An operator's `store set-next-target` lowering the target (the client lost its
// side of the sequence) makes the client's MsgSeqNums repeat in the same sequence: a new order must
// then still get an id of its own, never that of an order the book already holds.
import { spawn } from 'child_process';
import { FixTestClient } from '../support/fix-test-client';
import { gatewayConfig, nosFields, waitForMessage } from '../support/gateway-e2e';
import { GATEWAY_MAIN, GatewayProcess, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';

const dirs: string[] = [];
const clients: FixTestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await killAllGateways();
  for (const d of dirs.splice(0)) removeDir(d);
});

function storeCli(gw: GatewayProcess, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GATEWAY_MAIN, 'store', ...args, '--config', gw.configFile], { cwd: gw.dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('after store set-next-target lowers the target, a new order at a repeated MsgSeqNum is placed as its own order; the earlier one keeps its book entry', async () => {
  const config = gatewayConfig();
  let gw = await startGatewayProcess({ config });
  dirs.push(gw.dir);
  const c = await FixTestClient.connect({ port: gw.port, senderCompId: 'QFCLIENT', targetCompId: 'GATEWAY' });
  clients.push(c);
  await c.logon({ heartBtInt: 30 });
  const firstSeq = c.nextSeqNum;
  c.send('D', nosFields('FIRST', { qty: '0.001', price: '50000' }));
  const firstAck = await waitForMessage(c, (m) => m.msgType === '8' && m.get(11) === 'FIRST' && m.get(150) === '0');
  await c.logout();
  const gatewayNext = c.expectedSeqNum;
  await gw.stop();

  // The client starts its side again at the Logon's number; the operator agrees (no reset of ours).
  expect((await storeCli(gw, 'set-next-target', String(firstSeq - 1), '--session', 'QFCLIENT')).code).toBe(0);
  gw = await startGatewayProcess({ config, dir: gw.dir, ports: gw.ports });
  const c2 = await FixTestClient.connect({ port: gw.port, senderCompId: 'QFCLIENT', targetCompId: 'GATEWAY', nextSeqNum: firstSeq - 1, expectedSeqNum: gatewayNext });
  clients.push(c2);
  await c2.logon({ heartBtInt: 30 });
  expect(c2.nextSeqNum).toBe(firstSeq); // SECOND has FIRST's MsgSeqNum, in the same sequence
  c2.send('D', nosFields('SECOND', { qty: '0.001', price: '50001' }));
  const second = await waitForMessage(c2, (m) => m.msgType === '8' && m.get(11) === 'SECOND' && (m.get(150) === '0' || m.get(150) === '8'), { timeoutMs: 15_000 });
  expect([second.get(150), second.get(58)]).toEqual(['0', undefined]);
  expect(second.get(37)).not.toBe(firstAck.get(37));
  // FIRST is still FIRST in the book: its status names its own venue order.
  c2.send('H', [
    [11, 'FIRST'],
    [55, 'BTCUSDT'],
    [54, '1'],
  ]);
  const status = await waitForMessage(c2, (m) => m.msgType === '8' && m.get(11) === 'FIRST' && m.get(20) === '3');
  expect([status.get(37), status.get(44), status.get(41)]).toEqual([firstAck.get(37), '50000', undefined]);
  await c2.logout();
}, 90_000);
