// A FIX client that stops reading while fills stream to it (real gateway child, HashKey simulator
// child, fills made by /__sim/trade): the gateway buffers at most MaxOutboundBuffer for it, then
// disconnects it with one log line naming the session and the bytes buffered. Nothing is lost: after
// the client logs on again, its ResendRequest brings every ExecutionReport (6.9 MB of them, resent
// paced below the cap, so a client that reads is not taken for one that does not).
import { FixTestClient } from '../support/fix-test-client';
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
  startSimulatorProcess,
} from '../support/gateway-e2e';

jest.setTimeout(90_000);

const CAP = 256 * 1024;
const ORDERS = 1500;
// A long Account (echoed in every report) makes each ExecutionReport ~2.3 KB, so a few thousand of
// them outgrow the kernel's socket buffers (about 4 MB on loopback) and then the cap.
const ACCOUNT = 'ACCT-'.padEnd(2000, 'x');

let sim: SimulatorProcess | undefined;
let gw: GatewayProcess | undefined;
let client: FixTestClient | undefined;

afterAll(async () => {
  client?.destroy();
  const dir = gw?.dir;
  await killAllGateways();
  await killAllSimulators();
  if (dir) removeDir(dir);
});

const SLOW_LINE = 'client not reading: outbound buffer over MaxOutboundBuffer, disconnecting';

test('a client that stops reading is disconnected once MaxOutboundBuffer is buffered for it, with one log line; its ResendRequest then brings every report', async () => {
  sim = await startSimulatorProcess({ venue: 'hashkey' });
  gw = await startGatewayProcess({
    config: gatewayConfig({ VenueRestUrl: sim.restUrl, VenueWsUrl: sim.wsUrl, MaxOutboundBuffer: CAP, VenueRateLimitOrders: 100000 }),
  });
  await gw.waitForLog((e) => e.msg === 'venue ready');
  const c = (client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID }));
  autoAnswerResendRequests(c);
  await c.logon({ heartBtInt: 30 });
  c.pauseReading();

  const ids = Array.from({ length: ORDERS }, (_, i) => `SLOW-${i}`);
  for (const id of ids) c.send('D', [...nosFields(id, { qty: '0.001', price: '50000' }), [1, ACCOUNT]].sort((a, b) => Number(a[0]) - Number(b[0])));
  // Every order at the venue, then one trade fills them all: 2 reports an order stream to the client.
  for (let i = 0; ; i++) {
    const resting = (await sim.control.orders({ symbol: 'BTCUSDT' })).filter((o) => o.resting).length;
    if (resting >= ORDERS) break;
    if (i > 300) throw new Error(`only ${resting} of ${ORDERS} orders reached the venue\n${gw.describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const fills = await sim.control.trade({ symbol: 'BTCUSDT', side: 'sell', qty: (ORDERS * 0.001).toFixed(3), price: '50000' });
  expect(fills).toHaveLength(ORDERS);

  const line = await gw.waitForLog((e) => e.msg === SLOW_LINE, 30_000);
  expect(line.session).toBe('FIX.4.2:GATEWAY->QFCLIENT');
  expect(Number(line.bufferedBytes)).toBeGreaterThan(CAP);
  c.resumeReading(); // (a socket that does not read does not see the reset either)
  await c.waitClosed(5000);
  expect(gw.logs().filter((e) => e.msg === SLOW_LINE)).toHaveLength(1);

  // Log on again: the client asks for everything after what it read (nothing), and gets it all.
  await c.reconnect();
  const readBefore = c.received.filter((m) => m.msgType === '8').length;
  await logonAndSync(c, 60_000);
  // What it read before the reset plus what was resent: each report once (by ExecID), none missing.
  const byExecId = new Map(c.received.filter((m) => m.msgType === '8').map((m) => [m.get(17), m]));
  const reports = [...byExecId.values()];
  console.log(`${readBefore} reports read before the disconnect, ${reports.length} in all`);
  for (const id of ids) {
    const mine = reports.filter((m) => m.get(11) === id);
    expect(mine.map((m) => m.get(150)).sort()).toEqual(['0', '2']);
    const fill = mine.find((m) => m.get(150) === '2')!;
    expect([fill.get(14), fill.get(32), fill.get(151)]).toEqual(['0.001', '0.001', '0']);
  }
  expect(gw.running).toBe(true);
  await c.logout();
});
