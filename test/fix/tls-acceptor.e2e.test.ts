// The TLS acceptor end to end: the gateway child process (dist/main.js) serves a mutual-TLS port
// (client certificate required, CN pinned to the session's TargetCompID), a plain port and a TLS
// port where the client certificate is optional, side by side; node:tls clients with certificates
// made at test time (openssl, RSA) connect to it. Refusals happen before any store change: the
// session's store files are byte-for-byte the same afterwards, and the rightful client then logs on
// at MsgSeqNum 1. A silent or half-sent handshake is cut at SSLHandshakeTimeout while other clients
// log on meanwhile, and costs the gateway no CPU while it waits.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { FixTestClient, TagValue, fixTime } from '../support/fix-test-client';
import { GatewayProcess, killAllGateways, removeDir, snapshotFiles, startGatewayProcess } from '../support/gateway-process';
import { makeTestPki, TestPki } from '../support/tls-certs';
import { parseMetrics } from '../support/prometheus-text';

jest.setTimeout(60_000);

const HANDSHAKE_TIMEOUT_S = 3;

let pki: TestPki;
let pkiDir: string;
let gw: GatewayProcess;
const clients: FixTestClient[] = [];
const rawSockets: net.Socket[] = [];

/** Mutual TLS on {{PORT}} (CN pinned for QFCLIENT, not for DESK2), plain on {{PORT2}}, optional client certificate on {{PORT3}}, the admin endpoint on {{PORT4}}. */
function gatewayConfig(): string {
  return `
[DEFAULT]
BeginString=FIX.4.2
SenderCompID=GATEWAY
SocketAcceptHost=127.0.0.1
SocketAcceptPort={{PORT}}
FileStorePath=store
FileLogPath=log
DataDictionary={{DICTIONARY}}
Application=echo
SocketUseSSL=Y
ServerCertificateFile=${pki.server.cert}
ServerCertificateKeyFile=${pki.server.key}
CertificationAuthoritiesFile=${pki.ca}
CertificateVerifyLevel=1
SSLHandshakeTimeout=${HANDSHAKE_TIMEOUT_S}
HttpAcceptPort={{PORT4}}

[SESSION]
TargetCompID=QFCLIENT
SSLClientCNIsTargetCompID=Y

[SESSION]
TargetCompID=DESK2

[SESSION]
TargetCompID=PLAIN
SocketUseSSL=N
SocketAcceptPort={{PORT2}}

[SESSION]
TargetCompID=OPTIONAL
SocketAcceptPort={{PORT3}}
CertificateVerifyLevel=2
`;
}

beforeAll(async () => {
  pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-e2e-pki-'));
  pki = makeTestPki(pkiDir);
  gw = await startGatewayProcess({ config: gatewayConfig(), portCount: 4 });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of rawSockets.splice(0)) s.destroy();
});

afterAll(async () => {
  await killAllGateways();
  if (gw) removeDir(gw.dir);
  fs.rmSync(pkiDir, { recursive: true, force: true });
});

type ClientCert = { cert: string; key: string } | undefined;

function tlsOptions(cert: ClientCert, ca = pki.ca): tls.ConnectionOptions {
  return {
    ca: fs.readFileSync(ca),
    servername: undefined,
    ...(cert ? { cert: fs.readFileSync(cert.cert), key: fs.readFileSync(cert.key) } : {}),
  };
}

async function tlsClient(senderCompId: string, cert: ClientCert, port = gw.ports[0]): Promise<FixTestClient> {
  const c = await FixTestClient.connect({ port, senderCompId, targetCompId: 'GATEWAY', tls: tlsOptions(cert) });
  clients.push(c);
  return c;
}

function nos(clOrdId: string): TagValue[] {
  return [[11, clOrdId], [21, 1], [38, 100], [40, 2], [44, '10.5'], [54, 1], [55, 'IBM'], [60, fixTime()]];
}

/** Logon, a NewOrderSingle and its echo, Logout: the whole path over the connection. */
async function roundTrip(c: FixTestClient, clOrdId: string): Promise<void> {
  const reply = await c.logon({ heartBtInt: 30, resetSeqNum: true });
  expect(reply.get(49)).toBe('GATEWAY');
  c.send('D', nos(clOrdId));
  const echo = await c.next((m) => m.msgType === 'D');
  expect({ clOrdId: echo.get(11), price: echo.get(44), qty: echo.get(38) }).toEqual({ clOrdId, price: '10.5', qty: '100' });
  await c.logout();
}

/**
 * A refused attempt: the client either fails its handshake or sends its Logon and sees the
 * connection closed. Returns what it received before the close (FIX messages).
 */
async function attemptLogon(senderCompId: string, cert: ClientCert, port = gw.ports[0]): Promise<{ handshake: 'failed' | 'done'; received: string[] }> {
  let c: FixTestClient;
  try {
    c = await tlsClient(senderCompId, cert, port);
  } catch {
    return { handshake: 'failed', received: [] };
  }
  try {
    c.sendLogon({ heartBtInt: 30 });
  } catch {
    /* closed already (TLS 1.3: the server's verdict arrives after the client's handshake ends) */
  }
  await c.waitClosed(5000);
  return { handshake: 'done', received: c.received.map((m) => `${m.msgType}|34=${m.get(34)}|58=${m.get(58) ?? ''}`) };
}

function storeOf(target: string): Map<string, Buffer> {
  const all = snapshotFiles(gw.storeDir);
  return new Map([...all].filter(([name]) => name.includes(`-${target}.`)));
}

function gatewayLogs(msg: string): Array<Record<string, unknown>> {
  return gw.logs().filter((e) => e.msg === msg);
}

function eventLog(target: string): string {
  const file = path.join(gw.dir, 'log', `FIX.4.2-GATEWAY-${target}.event.log`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'latin1') : '';
}

test('the gateway says which ports serve TLS and with what, never key material', () => {
  const listening = gatewayLogs('FIX acceptor listening');
  const byPort = new Map(listening.map((e) => [e.port, e.tls]));
  expect(byPort.get(gw.ports[1])).toBe(false);
  expect(byPort.get(gw.ports[0])).toMatchObject({ protocols: 'TLSv1.2-TLSv1.3', clientCertificate: 'required', handshakeTimeoutS: HANDSHAKE_TIMEOUT_S, certificate: expect.stringContaining('CN=127.0.0.1') });
  expect(byPort.get(gw.ports[2])).toMatchObject({ clientCertificate: 'optional (verified if sent)' });
  const keyBody = fs.readFileSync(pki.server.key, 'latin1').split('\n')[1];
  expect(gw.stdoutLines.join('\n')).not.toContain(keyBody);
  expect(gw.stdoutLines.join('\n')).not.toContain('PRIVATE KEY');
});

test('mutual TLS: logon with a CA-signed certificate whose CN is the SenderCompID, an order echoed, logout', async () => {
  const c = await tlsClient('QFCLIENT', pki.client('QFCLIENT'));
  await roundTrip(c, 'TLS-1');
});

test('a session on the mutual-TLS port without CN pinning takes any certificate the CA signed', async () => {
  const c = await tlsClient('DESK2', pki.client('SOMEONE-ELSE'));
  await roundTrip(c, 'TLS-D2');
});

test('plain and TLS sessions coexist on different ports', async () => {
  const plain = await FixTestClient.connect({ port: gw.ports[1], senderCompId: 'PLAIN', targetCompId: 'GATEWAY' });
  clients.push(plain);
  const secure = await tlsClient('QFCLIENT', pki.client('QFCLIENT'));
  await plain.logon({ heartBtInt: 30, resetSeqNum: true });
  await secure.logon({ heartBtInt: 30, resetSeqNum: true });
  plain.send('D', nos('P-1'));
  secure.send('D', nos('S-1'));
  expect((await plain.next((m) => m.msgType === 'D')).get(11)).toBe('P-1');
  expect((await secure.next((m) => m.msgType === 'D')).get(11)).toBe('S-1');
  await plain.logout();
  await secure.logout();
});

describe('refused before any store change', () => {
  // A fresh session of its own, so that its store has never seen a Logon.
  const TARGET = 'QFCLIENT';
  let before: Map<string, Buffer>;

  beforeAll(async () => {
    await killAllGateways();
    removeDir(gw.dir);
    gw = await startGatewayProcess({ config: gatewayConfig(), portCount: 4 });
    before = storeOf(TARGET);
    expect(before.size).toBeGreaterThan(0); // the session's store files exist from start-up
  });

  test('a plain FIX client against the TLS port: closed, no FIX byte back, the failed handshake logged', async () => {
    const c = await FixTestClient.connect({ port: gw.ports[0], senderCompId: TARGET, targetCompId: 'GATEWAY' });
    clients.push(c);
    c.sendLogon({ heartBtInt: 30 });
    await c.waitClosed(5000);
    expect(c.received).toEqual([]);
    await gw.waitForLog((e) => e.msg === 'TLS handshake failed' && /wrong version number|http request|unknown protocol|record/.test(String(e.reason)));
  });

  test('a client whose certificate another CA signed (CN right): refused', async () => {
    const r = await attemptLogon(TARGET, pki.otherCaClient(TARGET));
    expect(r.received).toEqual([]);
    await gw.waitForLog((e) => e.msg === 'TLS handshake failed' && /client certificate not accepted: UNABLE_TO_VERIFY_LEAF_SIGNATURE/.test(String(e.reason)));
  });

  test('a TLS client without a certificate where one is required: refused', async () => {
    const r = await attemptLogon(TARGET, undefined);
    expect(r.received).toEqual([]);
    await gw.waitForLog((e) => e.msg === 'TLS handshake failed' && /did not return a certificate/.test(String(e.reason)));
  });

  test('a CA-signed certificate with the wrong CN: Logout with Text (MsgSeqNum not consumed), then closed', async () => {
    const r = await attemptLogon(TARGET, pki.client('INTRUDER'));
    expect(r).toEqual({ handshake: 'done', received: [`5|34=1|58=Logon refused: client certificate CN "INTRUDER" is not SenderCompID ${TARGET}`] });
    expect(eventLog(TARGET)).toMatch(/Refused connection from .*client certificate CN "INTRUDER" is not SenderCompID QFCLIENT/);
  });

  test('each refusal is in /metrics under the TLS port and a fixed reason', async () => {
    const m = parseMetrics(await (await fetch(`http://127.0.0.1:${gw.ports[3]}/metrics`)).text());
    const refused = (reason: string) => m.get(`fixgw_logons_refused_total{port="${gw.ports[0]}",reason="${reason}"}`) ?? 0;
    expect(refused('tls_handshake')).toBe(1); // the plain client
    expect(refused('client_certificate')).toBe(3); // another CA, none, the wrong CN
  });

  test('the store is byte-for-byte untouched, and the rightful client then logs on at MsgSeqNum 1 both ways', async () => {
    expect(storeOf(TARGET)).toEqual(before);
    const c = await tlsClient(TARGET, pki.client(TARGET));
    const reply = await c.logon({ heartBtInt: 30 });
    expect(reply.get(34)).toBe('1');
    await c.logout();
  });
});

describe('CertificateVerifyLevel=2 (asked, verified if sent)', () => {
  test('a client without a certificate logs on', async () => {
    const c = await tlsClient('OPTIONAL', undefined, gw.ports[2]);
    await roundTrip(c, 'OPT-1');
  });

  test('a client with a certificate another CA signed is refused', async () => {
    const r = await attemptLogon('OPTIONAL', pki.otherCaClient('OPTIONAL'), gw.ports[2]);
    expect(r.received).toEqual([]);
    await gw.waitForLog((e) => e.msg === 'TLS connection refused' && /client certificate not accepted/.test(String(e.reason)));
  });
});

// ------------------------------------------------------------------------------------ slow handshakes

/** CPU time (ms) the process has used so far, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** A raw TCP connection to the TLS port that sends `bytes` and then nothing; resolves with when it was closed. */
function stalledHandshake(bytes: Buffer): { closedAt: Promise<number> } {
  const s = net.connect({ host: '127.0.0.1', port: gw.ports[0] });
  rawSockets.push(s);
  s.on('error', () => undefined);
  s.on('connect', () => {
    if (bytes.length) s.write(bytes);
  });
  return { closedAt: new Promise((resolve) => s.once('close', () => resolve(Date.now()))) };
}

/** The first bytes of a TLS ClientHello: a handshake record announcing 512 bytes, of which 11 are sent. */
const HALF_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 1, 2, 3, 4, 5, 6]);

test('silent and half-sent handshakes are cut at SSLHandshakeTimeout; meanwhile others log on at once, and the wait costs no CPU', async () => {
  const start = Date.now();
  const stalled = [
    ...Array.from({ length: 10 }, () => stalledHandshake(Buffer.alloc(0))),
    ...Array.from({ length: 10 }, () => stalledHandshake(HALF_CLIENT_HELLO)),
  ];
  await new Promise((r) => setTimeout(r, 200)); // all connected and waiting
  const cpuBefore = cpuMs(gw.child.pid!);

  // Other clients are served while those 20 handshakes hang.
  const t0 = Date.now();
  const c = await tlsClient('DESK2', pki.client('DESK2'));
  await roundTrip(c, 'DURING-STALL');
  const servedAt = Date.now();
  const servedInMs = servedAt - t0;
  const plain = await FixTestClient.connect({ port: gw.ports[1], senderCompId: 'PLAIN', targetCompId: 'GATEWAY' });
  clients.push(plain);
  await plain.logon({ heartBtInt: 30, resetSeqNum: true });
  await plain.logout();

  const closedAfter = (await Promise.all(stalled.map((s) => s.closedAt))).map((t) => t - start);
  const cpuUsed = cpuMs(gw.child.pid!) - cpuBefore;
  // eslint-disable-next-line no-console
  console.log(`served during the stall in ${servedInMs} ms; stalled handshakes closed after ${Math.min(...closedAfter)}-${Math.max(...closedAfter)} ms; gateway CPU meanwhile ${cpuUsed} ms`);

  // Served while every stalled handshake was still open (a blocking acceptor serves only after them).
  expect(servedAt).toBeLessThan(Math.min(...closedAfter) + start);
  for (const t of closedAfter) {
    expect(t).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_S * 1000 - 100);
    expect(t).toBeLessThan(HANDSHAKE_TIMEOUT_S * 1000 + 2000);
  }
  // QuickFIX 1.15.1's acceptor spins on such connections (a full core); here the wait is idle. The
  // budget covers the two logons and round trips served meanwhile.
  expect(cpuUsed).toBeLessThan(600);
  const timeouts = () => gatewayLogs('TLS handshake failed').filter((e) => /handshake timeout/i.test(String(e.reason)));
  await gw.waitForLog(() => timeouts().length >= 20, 3000).catch(() => undefined);
  expect(timeouts().length).toBeGreaterThanOrEqual(20);
});

test('a burst of failed handshakes leaves the acceptor serving', async () => {
  const failures = await Promise.all([
    ...Array.from({ length: 10 }, () => attemptLogon('QFCLIENT', pki.otherCaClient('QFCLIENT'))),
    ...Array.from({ length: 10 }, () => attemptLogon('QFCLIENT', undefined)),
    ...Array.from({ length: 10 }, async () => {
      const s = net.connect({ host: '127.0.0.1', port: gw.ports[0] });
      rawSockets.push(s);
      s.on('error', () => undefined);
      s.write('8=FIX.4.2\x019=5\x0135=A\x0110=000\x01'.repeat(20)); // plain FIX, garbage to TLS
      await new Promise((r) => s.once('close', r));
      return { handshake: 'failed' as const, received: [] };
    }),
  ]);
  expect(failures.every((f) => f.received.length === 0)).toBe(true);
  const c = await tlsClient('QFCLIENT', pki.client('QFCLIENT'));
  await roundTrip(c, 'AFTER-BURST');
});

test('shutdown (SIGTERM) does not wait for a handshake that hangs', async () => {
  const slow = await startGatewayProcess({ config: gatewayConfig().replace(`SSLHandshakeTimeout=${HANDSHAKE_TIMEOUT_S}`, 'SSLHandshakeTimeout=60'), portCount: 4 });
  try {
    const s = net.connect({ host: '127.0.0.1', port: slow.ports[0] });
    rawSockets.push(s);
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    s.write(HALF_CLIENT_HELLO);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    expect(await slow.stop(10_000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(3000);
  } finally {
    await slow.kill('SIGKILL');
    removeDir(slow.dir);
  }
});
