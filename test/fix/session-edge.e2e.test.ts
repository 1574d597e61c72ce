// Session-layer edge cases over real TCP against the gateway process (echo sessions): header
// problems that must not corrupt sequence numbers, a ResendRequest that asks for seqnum 0, and
// liveness (HeartBtInt=0, TCP keep-alive, a half-open connection holding the session).
import * as fs from 'fs';
import * as path from 'path';
import { FixTestClient, fixTime, frameFix } from '../support/fix-test-client';
import { GatewayProcess, buildConfig, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';

jest.setTimeout(30_000);

const CONFIG = buildConfig([
  { SenderCompID: 'ISLD', TargetCompID: 'TW42', ResetOnLogon: 'Y' },
  { SenderCompID: 'ISLD', TargetCompID: 'NODICT', ResetOnLogon: 'Y', UseDataDictionary: 'N' },
  { SenderCompID: 'ISLD', TargetCompID: 'KEEP', ResetOnLogon: 'N' },
  { SenderCompID: 'ISLD', TargetCompID: 'LIVE', ResetOnLogon: 'Y' },
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gateways: GatewayProcess[] = [];
const clients: FixTestClient[] = [];
let gw: GatewayProcess;

async function client(senderCompId: string, g: GatewayProcess = gw, nextSeqNum = 1): Promise<FixTestClient> {
  const c = await FixTestClient.connect({ port: g.port, senderCompId, nextSeqNum });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  gw = await startGatewayProcess({ config: CONFIG });
  gateways.push(gw);
});

afterEach(async () => {
  const open = clients.splice(0).filter((c) => !c.closedNow);
  for (const c of open) c.destroy();
  if (open.length) await sleep(200);
});

afterAll(async () => {
  await killAllGateways();
  for (const g of gateways) removeDir(g.dir);
});

describe('sequence numbers survive malformed headers', () => {
  test('UseDataDictionary=N: a message without MsgSeqNum (34) gets Reject 373=1 371=34 and consumes no seqnum', async () => {
    const c = await client('NODICT');
    await c.logon({ heartBtInt: 30 });
    c.sendRaw(frameFix(`8=FIX.4.2|35=1|49=NODICT|52=${fixTime()}|56=ISLD|112=NO-SEQ|`));
    const reject = await c.next();
    expect(reject.msgType).toBe('3');
    expect(reject.get(373)).toBe('1');
    expect(reject.get(371)).toBe('34');
    expect(reject.has(45)).toBe(false);
    // The next message in sequence (2) is still the expected one.
    c.send('1', [[112, 'AFTER']]);
    const hb = await c.next();
    expect(hb.msgType).toBe('0');
    expect(hb.get(112)).toBe('AFTER');
    await c.logout();
  });

  test('UseDataDictionary=N: a non-numeric MsgSeqNum gets Reject 373=6 371=34', async () => {
    const c = await client('NODICT');
    await c.logon({ heartBtInt: 30 });
    c.sendRaw(frameFix(`8=FIX.4.2|35=1|34=two|49=NODICT|52=${fixTime()}|56=ISLD|112=BAD-SEQ|`));
    const reject = await c.next();
    expect(reject.msgType).toBe('3');
    expect(reject.get(373)).toBe('6');
    expect(reject.get(371)).toBe('34');
    c.send('1', [[112, 'AFTER']]);
    expect((await c.next()).get(112)).toBe('AFTER');
    await c.logout();
  });

  test('an incorrect BeginString consumes its seqnum durably: after a restart the next Logon continues without a ResendRequest', async () => {
    const own = await startGatewayProcess({ config: CONFIG });
    gateways.push(own);
    const c = await client('KEEP', own);
    await c.logon({ heartBtInt: 30 }); // 34=1
    c.send('0', [], { beginString: 'FIX.4.1' }); // 34=2
    const logout = await c.next();
    expect(logout.msgType).toBe('5');
    expect(logout.get(58)).toBe('Incorrect BeginString');
    await c.waitClosed(5000); // no Logout reply: the gateway gives up after its logout timeout
    expect((await own.stop()).code).toBe(0);

    const again = await startGatewayProcess({ config: CONFIG, dir: own.dir, ports: own.ports });
    gateways.push(again);
    const c2 = await client('KEEP', again, 3);
    c2.expectedSeqNum = c.expectedSeqNum;
    const reply = await c2.logon({ heartBtInt: 30 }); // 34=3
    expect(reply.msgType).toBe('A');
    await sleep(500);
    // Before the fix: ResendRequest 7=2, the store still expected 2.
    expect(c2.unread().map(String)).toEqual([]);
    await c2.logout();
  });
});

describe('ResendRequest', () => {
  test('BeginSeqNo 0 gets Reject 373=5 371=7 (no SequenceReset with MsgSeqNum 0); the session goes on', async () => {
    const c = await client('TW42');
    await c.logon({ heartBtInt: 30 });
    c.send('2', [[7, 0], [16, 0]]);
    const reply = await c.next();
    expect(reply.msgType).toBe('3');
    expect(reply.get(373)).toBe('5');
    expect(reply.get(371)).toBe('7');
    expect(reply.get(45)).toBe('2');
    c.send('1', [[112, 'AFTER']]);
    expect((await c.next()).get(112)).toBe('AFTER');
    await c.logout();
  });
});

function eventLog(g: GatewayProcess, target: string): string {
  const file = path.join(g.dir, 'log', `FIX.4.2-ISLD-${target}.event.log`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'latin1') : '';
}

/** The kernel's timer for the gateway's end of a connection (/proc/net/tcp "tr": 2 = keep-alive timer). */
function gatewaySideTimer(gatewayPort: number, clientPort: number): number | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'latin1').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 6) continue;
      if (cols[1].endsWith(`:${hex(gatewayPort)}`) && cols[2].endsWith(`:${hex(clientPort)}`)) return Number(cols[5].split(':')[0]);
    }
  }
  return undefined;
}

describe('liveness', () => {
  test('a Logon with HeartBtInt=0 (no liveness checks at all) is refused: connection closed, reason in the event log', async () => {
    const c = await client('LIVE');
    c.sendLogon({ heartBtInt: 0 });
    await c.waitClosed(5000);
    expect(c.received.map(String)).toEqual([]);
    // The event log is written asynchronously: the close can reach us first.
    for (let i = 0; i < 200 && !/Refused connection .*HeartBtInt 0/.test(eventLog(gw, 'LIVE')); i++) await sleep(50);
    expect(eventLog(gw, 'LIVE')).toMatch(/Refused connection .*HeartBtInt 0/);
  });

  test('accepted sockets have TCP keep-alive on (the kernel runs a keep-alive timer on the gateway side)', async () => {
    if (!fs.existsSync('/proc/net/tcp')) return; // Linux only
    const c = await client('LIVE');
    await c.logon({ heartBtInt: 30 });
    const clientPort = (c as unknown as { socket: { localPort: number } }).socket.localPort;
    expect(gatewaySideTimer(gw.port, clientPort)).toBe(2);
    await c.logout();
  });

  test('a new Logon for a session whose connection has been silent past HeartBtInt + grace closes the old one (logged) and proceeds', async () => {
    const old = await client('LIVE');
    await old.logon({ heartBtInt: 2 });
    const t0 = Date.now();
    // The old peer is gone without a FIN (half-open): it sends nothing and answers nothing.
    await sleep(3600);
    expect(old.closedNow).toBe(false); // the heartbeat timeout (2.4 x 2 s) has not closed it yet
    const fresh = await client('LIVE');
    const reply = await fresh.logon({ heartBtInt: 2 }, 3000); // before the fix: closed without a reply
    expect(reply.msgType).toBe('A');
    await old.waitClosed(2000);
    expect(Date.now() - t0).toBeLessThan(4700);
    expect(eventLog(gw, 'LIVE')).toMatch(/Closing silent connection .* new Logon/);
    await fresh.logout();
  });

  test('a second Logon while the live connection is talking is still refused', async () => {
    const live = await client('LIVE');
    await live.logon({ heartBtInt: 2 });
    await sleep(1500);
    live.send('0');
    await sleep(1500);
    const second = await client('LIVE');
    second.sendLogon({ heartBtInt: 2 });
    await second.waitClosed(3000);
    expect(second.received).toEqual([]);
    live.send('1', [[112, 'STILL']]);
    expect((await live.next((m) => m.msgType === '0' && m.get(112) === 'STILL')).get(112)).toBe('STILL');
    await live.logout();
  });

  test('every received frame counts as life: PossDup duplicates (ignored by the session) keep the gateway from sending a TestRequest', async () => {
    const c = await client('LIVE');
    await c.logon({ heartBtInt: 1 });
    const logonSent = c.sent.get(1)!;
    const ticker = setInterval(() => {
      if (!c.closedNow) c.send('0', [], { seqNum: 1, possDup: true, origSendingTime: logonSent.sendingTime });
    }, 300);
    try {
      await sleep(3000);
    } finally {
      clearInterval(ticker);
    }
    expect(c.closedNow).toBe(false);
    expect(c.received.filter((m) => m.msgType === '1').map(String)).toEqual([]);
    await c.logout();
  });
});
