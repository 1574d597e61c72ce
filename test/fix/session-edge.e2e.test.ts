// Session-layer edge cases over real TCP against the gateway process (echo sessions): header
// problems that must not corrupt sequence numbers, and a ResendRequest that asks for seqnum 0.
import { FixTestClient, fixTime, frameFix } from '../support/fix-test-client';
import { GatewayProcess, buildConfig, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';

jest.setTimeout(30_000);

const CONFIG = buildConfig([
  { SenderCompID: 'ISLD', TargetCompID: 'TW42', ResetOnLogon: 'Y' },
  { SenderCompID: 'ISLD', TargetCompID: 'NODICT', ResetOnLogon: 'Y', UseDataDictionary: 'N' },
  { SenderCompID: 'ISLD', TargetCompID: 'KEEP', ResetOnLogon: 'N' },
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
