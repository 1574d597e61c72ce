// The "done" proof, end to end: the shipped sessions.cfg started as `npm start` starts it
// (`node dist/main.js --config FILE` from the repo root), the banner, /ready, then the QuickFIX C++
// client (shared/qfclient, strict FIX42.xml validation) trading one scenario on every venue session,
// and /metrics counting exactly the orders and reports the client saw; SIGTERM ends it cleanly.
//
// What differs from `npm start`: the config is a copy in a temp directory (its relative
// FileStorePath/FileLogPath then land there) whose SocketAcceptPort and HttpAcceptPort are free
// ports, since 9878/9879 may be taken on a shared machine; the test checks nothing else differs.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSessionSettings, SessionConfig } from '../../src/fix/config/session-settings';
import { VENUES } from '../../src/venues/registry';
import { SimControl } from '../support/gateway-e2e';
import { freePort, GATEWAY_MAIN, GatewayProcess, killAllGateways, REPO_ROOT } from '../support/gateway-process';
import { parseMetrics } from '../support/prometheus-text';
import { expectCleanScenario, ScenarioResult } from '../support/qfclient-venue';

jest.setTimeout(300_000);

const SHIPPED = path.join(REPO_ROOT, 'sessions.cfg');
/** The keys the copy rewrites: everything else must be the shipped file, line for line. */
const REWRITTEN_KEYS = ['SocketAcceptPort', 'HttpAcceptPort'];

/**
 * What each venue's scenario expects of its simulator before it starts (the same preparation as
 * the per-venue interop tests in test/interop/qfclient-*.test.ts), through the simulator's /__sim/ API.
 */
const PREPARE: Readonly<Record<string, (sim: SimControl) => Promise<unknown>>> = {
  // The first order of the scenario is the one the venue keeps open (Zerocap orders are FOK).
  zerocap: (sim) => sim.configure({ restNextOrders: 1 }),
  // 1 BTC per price level: the scenario's crossing order of 2.5 takes three levels.
  dzengi: (sim) => sim.request('POST', '/__sim/config', { liquidity: { 'BTC/USD': { levelQty: '1' } } }),
};

/** ExecType (150) → the outcome label of fixgw_orders_total, as FIX 4.2 defines those ExecTypes. */
const OUTCOME_OF_EXEC_TYPE: Readonly<Record<string, string>> = { '0': 'acked', '1': 'partially_filled', '2': 'filled', '4': 'canceled', C: 'expired', '8': 'rejected' };

let root: string; // everything this file creates: the config copy, the gateway's var/, client work dirs
let configFile: string;
let configs: SessionConfig[];
let gw: GatewayProcess;
let qfclient: string;
let qfclientCfg: string;
let adminBase: string;
const clients = new Set<ChildProcess>();
const t0 = Date.now();
const timings: string[] = [];
const mark = (what: string) => timings.push(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

beforeAll(async () => {
  const build = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-qfclient.sh')], { encoding: 'utf8', timeout: 15 * 60_000 });
  if (build.status !== 0) {
    throw new Error(
      `cannot run the QuickFIX client: scripts/build-qfclient.sh failed (exit ${build.status ?? build.signal ?? build.error?.message}); ` +
        `it needs ../shared/qfclient and Debian's libquickfix-dev (see ../shared/qfclient/README.md)\n${build.stdout}\n${build.stderr}`,
    );
  }
  qfclient = build.stdout.trim().split('\n').find((l) => l.endsWith('/qfclient'))!;
  qfclientCfg = path.join(path.dirname(qfclient), 'cfg', 'client.cfg');
  mark('qfclient built');

  root = fs.mkdtempSync(path.join(os.tmpdir(), 'shipped-cfg-'));
  configFile = path.join(root, 'sessions.cfg');
  const ports = new Map([
    ['SocketAcceptPort', await freePort()],
    ['HttpAcceptPort', await freePort()],
  ]);
  fs.writeFileSync(configFile, fs.readFileSync(SHIPPED, 'utf8').replace(/^(\w+)=.*$/gm, (line, key: string) => (ports.has(key) ? `${key}=${ports.get(key)}` : line)));
  configs = loadSessionSettings(configFile);

  // As `npm start`: node dist/main.js --config FILE, from the repo root.
  const child = spawn(process.execPath, [GATEWAY_MAIN, '--config', configFile], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  gw = new GatewayProcess(child, root, configFile, [...ports.values()]);
  await gw.waitReady(60_000);
  mark('gateway started');
  adminBase = `http://127.0.0.1:${ports.get('HttpAcceptPort')}`;
}, 20 * 60_000);

afterAll(async () => {
  for (const c of clients) c.kill('SIGKILL');
  await killAllGateways();
  if (root) fs.rmSync(root, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log(`shipped-config timings: ${timings.join('; ')}`);
});

test('the copy differs from the shipped sessions.cfg only in the ports, and its store and logs are in the temp directory', () => {
  const shipped = fs.readFileSync(SHIPPED, 'utf8').split('\n');
  const copy = fs.readFileSync(configFile, 'utf8').split('\n');
  expect(copy).toHaveLength(shipped.length);
  const changed = shipped.flatMap((line, i) => (line === copy[i] ? [] : [line.split('=')[0]]));
  expect(changed.sort()).toEqual([...REWRITTEN_KEYS].sort());
  for (const c of configs) {
    expect(c.fileStorePath.startsWith(root + path.sep)).toBe(true);
    expect(c.fileLogPath.startsWith(root + path.sep)).toBe(true);
  }
});

test('the start-up sessions line (the banner, as JSON logs on a pipe) lists every session (one per venue, plus echo) with host:port, the client CompIDs, venue, environment, and the status page URL', async () => {
  // stdout is a pipe here, so logs are JSON and the banner's facts are one log line (on a terminal,
  // as with `npm start`, the same facts are the text banner: test/ops/cli.test.ts).
  const line = await gw.waitForLog((e) => e.msg === 'sessions');
  expect(gw.stdoutLines.filter((l) => l !== '' && !l.startsWith('{'))).toEqual([]);
  // Every venue the gateway knows has a session in the shipped config, plus the echo session.
  const venueSessions = configs.filter((c) => c.venue);
  expect(venueSessions.map((c) => c.venue!.name).sort()).toEqual(Object.keys(VENUES).sort());
  expect(configs.filter((c) => c.application === 'echo')).toHaveLength(1);
  expect(configs).toHaveLength(venueSessions.length + 1);

  const sessions = line.sessions as Array<Record<string, string>>;
  expect(sessions).toHaveLength(configs.length);
  for (const c of configs) {
    expect(sessions).toContainEqual({
      endpoint: `${c.acceptHost}:${gw.ports[0]}`,
      clientSenderCompId: c.targetCompId,
      clientTargetCompId: c.senderCompId,
      ...(c.venue ? { venue: c.venue.name, environment: c.venue.environment } : { application: c.application }),
      transport: 'plain',
    });
  }
  expect(line.statusPage).toBe(`${adminBase}/`);
});

test('/health answers and /ready becomes 200 once the acceptor listens and every venue is ready', async () => {
  expect((await httpGet('/health')).status).toBe(200);
  const ready = await eventually('/ready', () => httpGet('/ready'), (r) => r.status === 200, 90_000);
  expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });
  mark('/ready 200');
});

/** Per venue session: what its client sent and received, for the /metrics test. */
const traded = new Map<string, { ordersSent: number; outcomes: Map<string, number> }>();

describe.each(Object.keys(VENUES).sort())('venue %s', (venue) => {
  test(`the QuickFIX client trades the ${venue} scenario on its shipped session: all steps pass, 0 validation errors, invariants hold`, async () => {
    const session = configs.find((c) => c.venue?.name === venue)!;
    const sim = new SimControl(simulatorOrigin(session.sessionId));
    await PREPARE[venue]?.(sim);
    const r = await runScenario(session, `${venue}-basic.json`);
    expectCleanScenario(r);
    // The orders are the scenario's NewOrderSingle steps, and the client's own log holds exactly those.
    const nosSteps = r.stdout.split('\n').filter((l) => /^PASS +step \d+: nos /.test(l)).length;
    const log = clientMessages(r.workdir, session);
    const sentOrders = log.filter((m) => m.outgoing && m.fields.get('35') === 'D');
    expect(nosSteps).toBeGreaterThan(0);
    expect(sentOrders).toHaveLength(nosSteps);
    // Reports that are an order outcome: not status replies (20=3), not re-sends (43=Y, 97=Y).
    const outcomes = new Map<string, number>();
    for (const m of log) {
      const f = m.fields;
      if (m.outgoing || f.get('35') !== '8' || f.get('20') === '3' || f.get('43') === 'Y' || f.get('97') === 'Y') continue;
      const outcome = OUTCOME_OF_EXEC_TYPE[f.get('150') ?? ''];
      if (outcome) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    traded.set(session.sessionId, { ordersSent: nosSteps, outcomes });
    mark(`${venue} scenario done (${nosSteps} orders)`);
  });
});

test('/metrics counts, per session, the orders the client sent and the outcomes it received; /ready still 200', async () => {
  expect(traded.size).toBe(Object.keys(VENUES).length);
  const metrics = parseMetrics((await httpGet('/metrics')).body);
  for (const [session, { ordersSent, outcomes }] of traded) {
    expect([session, metrics.get(`fixgw_messages_received_total{session="${session}",msg_type="D"}`)]).toEqual([session, ordersSent]);
    const counted = new Map<string, number>();
    for (const [key, value] of metrics) {
      const m = /^fixgw_orders_total\{session="([^"]*)",outcome="([^"]*)",reason="[^"]*"\}$/.exec(key);
      if (m && m[1] === session && value > 0) counted.set(m[2], (counted.get(m[2]) ?? 0) + value);
    }
    expect([session, Object.fromEntries([...counted].sort())]).toEqual([session, Object.fromEntries([...outcomes].sort())]);
  }
  // The echo session traded nothing.
  const echo = configs.find((c) => c.application === 'echo')!;
  expect(metrics.get(`fixgw_messages_received_total{session="${echo.sessionId}",msg_type="D"}`) ?? 0).toBe(0);
  expect((await httpGet('/ready')).status).toBe(200);
});

test('SIGTERM: exit 0, the store lock released, every store flushed, no process left', async () => {
  const pid = gw.child.pid!;
  const storeDirs = [...new Set(configs.map((c) => c.fileStorePath))];
  for (const d of storeDirs) expect(fs.existsSync(path.join(d, 'gateway.lock'))).toBe(true);
  expect(await gw.stop(60_000)).toEqual({ code: 0, signal: null });
  mark('stopped');
  // The log says the stop completed (an operator reading it can tell a clean stop from a crash).
  const said = gw.logs().map((e) => e.msg);
  expect(said[said.length - 1]).toBe('gateway stopped');
  expect(said.indexOf('shutting down')).toBeGreaterThan(said.indexOf('gateway started'));
  for (const d of storeDirs) expect(fs.existsSync(path.join(d, 'gateway.lock'))).toBe(false);
  expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  expect(processesUsing(root)).toEqual([]);
  // The store commands take the same lock: they now run, and the stores hold what the clients saw.
  for (const c of configs.filter((s) => traded.has(s.sessionId))) {
    const show = spawnSync(process.execPath, [GATEWAY_MAIN, 'store', 'show', '--config', configFile, '--session', c.sessionId], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(show.status).toBe(0);
    const log = clientMessages(path.join(root, `qfc-${c.targetCompId}`), c);
    const lastSeq = (outgoing: boolean) => Math.max(...log.filter((m) => m.outgoing === outgoing).map((m) => Number(m.fields.get('34'))));
    expect(show.stdout).toMatch(new RegExp(`^next sender +${lastSeq(false) + 1} `, 'm'));
    expect(show.stdout).toMatch(new RegExp(`^next target +${lastSeq(true) + 1} `, 'm'));
  }
});

// ---------------------------------------------------------------------------------------------

async function httpGet(p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${adminBase}${p}`);
  return { status: res.status, body: await res.text() };
}

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch((e: Error) => e as unknown as T);
    if (!(v instanceof Error) && ok(v)) return v;
    if (Date.now() > until) throw new Error(`${what}: last seen ${v instanceof Error ? v.message : JSON.stringify(v)}\n${gw.describe()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The in-process simulator of a session, from the gateway's "venue simulator started" log line. */
function simulatorOrigin(sessionId: string): string {
  const entry = gw.logs().find((e) => e.msg === 'venue simulator started' && e.session === sessionId);
  if (!entry) throw new Error(`no "venue simulator started" line for ${sessionId}\n${gw.describe()}`);
  return new URL(String(entry.restUrl)).origin;
}

/** qfclient's example settings with the session's client SenderCompID (its only session identity key). */
function clientConfigFor(senderCompId: string): string {
  const file = path.join(root, `client-${senderCompId}.cfg`);
  const text = fs.readFileSync(qfclientCfg, 'utf8');
  if (!/^SenderCompID=QFCLIENT$/m.test(text)) throw new Error(`${qfclientCfg}: no SenderCompID=QFCLIENT line to replace`);
  fs.writeFileSync(file, text.replace(/^SenderCompID=QFCLIENT$/m, `SenderCompID=${senderCompId}`));
  return file;
}

function runScenario(session: SessionConfig, scenario: string, timeoutMs = 240_000): Promise<ScenarioResult> {
  const workdir = path.join(root, `qfc-${session.targetCompId}`);
  fs.mkdirSync(workdir);
  const args = ['--config', clientConfigFor(session.targetCompId), '--host', session.acceptHost, '--port', String(gw.ports[0])];
  args.push('--workdir', workdir, '--mode', 'scenario', '--file', path.join(REPO_ROOT, 'test', 'scenarios', scenario));
  return new Promise((resolve, reject) => {
    const child = spawn(qfclient, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    clients.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`qfclient ${scenario} timed out\n${stdout}\n${stderr}\n${gw.describe()}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      clients.delete(child);
      resolve({ code, stdout, stderr, workdir });
    });
  });
}

interface LoggedMessage {
  outgoing: boolean;
  fields: Map<string, string>;
}

/** Every message in the client's QuickFIX message log; outgoing = sent by the client (49 = its CompID). */
function clientMessages(workdir: string, session: SessionConfig): LoggedMessage[] {
  // QuickFIX names a session's log BeginString-SenderCompID-TargetCompID (the client's view).
  const file = path.join(workdir, 'log', `${session.beginString}-${session.targetCompId}-${session.senderCompId}.messages.current.log`);
  const clientCompId = session.targetCompId;
  const out: LoggedMessage[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('8=FIX');
    if (i < 0) continue;
    const fields = new Map<string, string>();
    for (const kv of line.slice(i).split('\x01')) {
      const eq = kv.indexOf('=');
      if (eq > 0 && !fields.has(kv.slice(0, eq))) fields.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    out.push({ outgoing: fields.get('49') === clientCompId, fields });
  }
  return out;
}

/** Processes (other than this one) whose command line mentions `dir`. */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}
