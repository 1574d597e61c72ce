// Interop with a real QuickFIX C++ 1.15.1 initiator (shared/qfclient, built by
// scripts/build-qfclient.sh): the gateway runs as a child process (dist/main.js) with one echo
// session GATEWAY<-QFCLIENT (the identity in qfclient's cfg/client.cfg), ResetOnLogon=N, a durable
// file store and the message log on. qfclient's QuickFIX session validates everything we send
// against FIX42.xml with strict settings (field order, user-defined tags, BodyLength/CheckSum,
// latency, CompIDs), resends with 43=Y/122 and gap fills included.
//
// The echo application answers a NewOrderSingle with a 35=D echo, not an ExecutionReport. qfclient
// load mode counts such a reply under `other_app_messages` (its fromApp for types other than
// 8/9/j), so every order shows up as `unanswered_orders` and qfclient exits 1 although nothing went
// wrong. The load tests therefore assert on the report's counters (and on the gateway's own
// message log), not on qfclient's exit status. Scenario mode's `expect` takes any message type
// (its inbox holds every application message), so `{"op":"expect","msg":"D"}` matches the echo.
//
// Each qfclient run gets a fresh gateway (fresh store) and a fresh --workdir, so both sides start
// at seqnum 1 without a 141=Y reset. Every child process is stopped by its pid, also on failure.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freePort } from '../support/gateway-process';

const ROOT = path.resolve(__dirname, '..', '..');
const GATEWAY_MAIN = path.join(ROOT, 'dist', 'main.js');
const BUILD_SCRIPT = path.join(ROOT, 'scripts', 'build-qfclient.sh');

jest.setTimeout(180_000);

const children = new Set<ChildProcess>();
const tmpDirs: string[] = [];
let qfclient = '';
let qfclientCfg = '';

function tmpDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

/** Kills one child we started (by its pid) and waits for it to exit. */
function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      resolve(child.exitCode);
      return;
    }
    const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(hard);
      children.delete(child);
      resolve(code);
    });
    child.kill(signal);
  });
}

// ------------------------------------------------------------------------------------ gateway

interface Gateway {
  port: number;
  dir: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM; resolves with the exit code once the process is gone (logs are flushed by then). */
  stop: () => Promise<number | null>;
}

async function startGateway(): Promise<Gateway> {
  const dir = tmpDir('qfi-gw-');
  const port = await freePort();
  const cfg = path.join(dir, 'gateway.cfg');
  fs.writeFileSync(
    cfg,
    [
      '[DEFAULT]',
      'BeginString=FIX.4.2',
      'SocketAcceptHost=127.0.0.1',
      `SocketAcceptPort=${port}`,
      'HeartBtInt=30',
      `FileStorePath=${path.join(dir, 'store')}`,
      `FileLogPath=${path.join(dir, 'log')}`,
      `DataDictionary=${path.join(ROOT, 'dictionaries', 'FIX42.xml')}`,
      'ResetOnLogon=N',
      'StartTime=00:00:00',
      'EndTime=00:00:00',
      'Application=echo',
      '',
      '[SESSION]',
      'SenderCompID=GATEWAY',
      'TargetCompID=QFCLIENT',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [GATEWAY_MAIN, '--config', cfg], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const gw: Gateway = { port, dir, child, output: () => out, stop: () => stopChild(child) };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start within 30 s:\n${out}`)), 30_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited with ${code} before it started:\n${out}`));
      };
      child.once('exit', onExit);
      const check = () => {
        for (const line of out.split('\n')) {
          if (!line.includes('"gateway started"')) continue;
          const started = JSON.parse(line) as { endpoints: { port: number }[] };
          if (started.endpoints.some((e) => e.port === port)) {
            clearTimeout(timer);
            child.removeListener('exit', onExit);
            child.stdout!.removeListener('data', check);
            resolve();
            return;
          }
        }
      };
      child.stdout!.on('data', check);
    });
  } catch (err) {
    await gw.stop();
    throw err;
  }
  return gw;
}

interface GatewayLogs {
  events: string[];
  /** Raw FIX messages, SOH kept, per direction. */
  incoming: string[];
  outgoing: string[];
}

function readGatewayLogs(gw: Gateway): GatewayLogs {
  const logDir = path.join(gw.dir, 'log');
  const files = fs.readdirSync(logDir);
  const read = (suffix: string) => {
    const f = files.find((n) => n.endsWith(suffix));
    return f ? fs.readFileSync(path.join(logDir, f), 'latin1').split('\n').filter((l) => l !== '') : [];
  };
  const messages = read('.messages.log');
  return {
    events: read('.event.log'),
    incoming: messages.filter((l) => l.includes(' : < ')).map((l) => l.slice(l.indexOf(' : < ') + 5)),
    outgoing: messages.filter((l) => l.includes(' : > ')).map((l) => l.slice(l.indexOf(' : > ') + 5)),
  };
}

function field(raw: string, tag: number): string | undefined {
  const m = new RegExp(`(?:^|\\x01)${tag}=([^\\x01]*)\\x01`).exec(raw);
  return m ? m[1] : undefined;
}

// ------------------------------------------------------------------------------------ qfclient

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runQfclient(args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(qfclient, ['--config', qfclientCfg, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      void stopChild(child, 'SIGINT', 3000).then(() =>
        reject(new Error(`qfclient ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)),
      );
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      children.delete(child);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

interface LoadReport {
  aborted: string | null;
  orders_sent: number;
  send_errors: number;
  acks: number;
  unanswered_orders: number;
  validation_errors: number;
  garbled_messages: number;
  validation_error_samples: string[];
  session_rejects_received: number;
  business_rejects_received: number;
  reject_samples: string[];
  exec_reports_received: number;
  unmatched_messages: number;
  unmatched_samples: string[];
  other_app_messages: number;
  throughput: { send_phase_s: number; sent_per_s: number; total_s: number; schedule_max_lag_us: number };
  client_cpu: { cpu_us_per_order: number };
  sender_seq: { first: number; next: number };
  logons: number;
  logouts: number;
  logout_texts: string[];
  session_events: string[];
}

function parseReport(run: Run): LoadReport {
  const start = run.stdout.indexOf('{');
  if (start < 0) throw new Error(`qfclient printed no JSON report (exit ${run.code})\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return JSON.parse(run.stdout.slice(start)) as LoadReport;
}

async function loadRun(rate: number, count: number): Promise<void> {
  const gw = await startGateway();
  let report: LoadReport;
  let logs: GatewayLogs;
  try {
    const workdir = tmpDir('qfi-client-');
    const run = await runQfclient(
      ['--workdir', workdir, '--port', String(gw.port), '--mode', 'load', '--rate', String(rate), '--count', String(count),
        '--drain-ms', '3000', '--quiet'],
      120_000,
    );
    report = parseReport(run);
    // Exit 1 is expected: no ExecutionReports, so qfclient sees every order as unanswered.
    expect({ code: run.code, stderr: run.code === 1 ? '' : run.stderr }).toEqual({ code: 1, stderr: '' });
  } finally {
    expect(await gw.stop()).toBe(0);
  }
  logs = readGatewayLogs(gw);
  const t = report.throughput;
  // eslint-disable-next-line no-console
  console.log(
    `qfclient load --rate ${rate} --count ${count}: sent ${report.orders_sent} (${t.sent_per_s.toFixed(0)}/s over ${t.send_phase_s.toFixed(3)} s,` +
      ` max schedule lag ${t.schedule_max_lag_us.toFixed(0)} us), echoes ${report.other_app_messages}, ERs ${report.exec_reports_received},` +
      ` validation_errors ${report.validation_errors}, session_rejects ${report.session_rejects_received},` +
      ` business_rejects ${report.business_rejects_received}, unmatched ${report.unmatched_messages}, logons ${report.logons},` +
      ` sender_seq ${report.sender_seq.first}->${report.sender_seq.next}, client cpu ${report.client_cpu.cpu_us_per_order} us/order`,
  );

  // The client's strict QuickFIX session accepted every message the gateway sent.
  expect({
    validation_errors: report.validation_errors,
    garbled_messages: report.garbled_messages,
    samples: report.validation_error_samples,
  }).toEqual({ validation_errors: 0, garbled_messages: 0, samples: [] });
  expect({
    session_rejects_received: report.session_rejects_received,
    business_rejects_received: report.business_rejects_received,
    samples: report.reject_samples,
  }).toEqual({ session_rejects_received: 0, business_rejects_received: 0, samples: [] });
  expect(report.aborted).toBeNull();
  expect(report.send_errors).toBe(0);
  expect(report.logons).toBeGreaterThanOrEqual(1);
  expect(report.logout_texts).toEqual([]); // no Logout with a Text (e.g. "MsgSeqNum too low") from the gateway
  expect(report.orders_sent).toBe(count);
  expect(report.sender_seq.next - report.sender_seq.first).toBe(count);
  // Every order answered by its echo (a 35=D, so: an "other" application message, no ER).
  expect(report.other_app_messages).toBe(count);
  expect(report.exec_reports_received).toBe(0);
  expect(report.unmatched_messages).toBe(0);
  expect(report.acks).toBe(0);
  expect(report.unanswered_orders).toBe(count);

  // The gateway's side: each order received once and echoed once, with its ClOrdID, nothing
  // rejected, no sequence trouble.
  const inD = logs.incoming.filter((m) => field(m, 35) === 'D').map((m) => field(m, 11));
  const outD = logs.outgoing.filter((m) => field(m, 35) === 'D').map((m) => field(m, 11));
  expect(inD.length).toBe(count);
  expect(new Set(inD).size).toBe(count);
  expect(outD.sort()).toEqual(inD.sort());
  const trouble = logs.events.filter((e) => /Rejected|too low|too high|ResendRequest|Error|Garbled|Timed out/.test(e));
  expect(trouble).toEqual([]);
  expect(logs.outgoing.filter((m) => ['3', 'j'].includes(field(m, 35) ?? ''))).toEqual([]);
}

async function scenarioRun(name: string, scenario: object): Promise<{ run: Run; logs: GatewayLogs }> {
  const gw = await startGateway();
  let run: Run;
  try {
    const workdir = tmpDir('qfi-client-');
    const file = path.join(workdir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(scenario, null, 2));
    run = await runQfclient(['--workdir', workdir, '--port', String(gw.port), '--mode', 'scenario', '--file', file], 120_000);
  } finally {
    expect(await gw.stop()).toBe(0);
  }
  // eslint-disable-next-line no-console
  console.log(`qfclient scenario ${name} (exit ${run.code}):\n${run.stdout}`);
  return { run, logs: readGatewayLogs(gw) };
}

function expectAllPassed(run: Run): void {
  const last = run.stdout.trim().split('\n').pop() ?? '';
  const failed = run.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
  expect({ code: run.code, last, failed }).toEqual({ code: 0, last: expect.stringMatching(/^\d+ passed, 0 failed$/), failed: [] });
  expect(run.stdout).toMatch(/PASS {2}step \d+: end: every incoming message passed QuickFIX FIX42\.xml validation \(0 errors\)/);
}

// ------------------------------------------------------------------------------------ tests

beforeAll(() => {
  const build = spawnSync('bash', [BUILD_SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 20 * 60_000 });
  if (build.status !== 0) {
    throw new Error(
      `scripts/build-qfclient.sh failed (exit ${build.status ?? build.signal ?? build.error?.message}); ` +
        `qfclient needs Debian's libquickfix-dev (QuickFIX 1.15.1). This interop suite cannot run without it.\n` +
        `${build.stderr}`,
    );
  }
  const bins = build.stdout.trim().split('\n');
  qfclient = bins.find((b) => b.endsWith('/qfclient')) ?? '';
  if (!qfclient || !fs.existsSync(qfclient)) throw new Error(`build-qfclient.sh printed no qfclient binary:\n${build.stdout}`);
  qfclientCfg = path.join(path.dirname(qfclient), 'cfg', 'client.cfg');

  // The gateway runs from dist/. tsc emits even when another engineer's unfinished file has type
  // errors, so only a missing dist/main.js is fatal here.
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 5 * 60_000,
  });
  if (!fs.existsSync(GATEWAY_MAIN)) throw new Error(`tsc produced no ${GATEWAY_MAIN}:\n${tsc.stdout}${tsc.stderr}`);
}, 25 * 60_000);

afterAll(async () => {
  await Promise.all([...children].map((c) => stopChild(c, 'SIGKILL', 1000)));
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('QuickFIX C++ initiator (qfclient) against the echo session', () => {
  test('load, as fast as possible: 2,000 orders, all echoed, no validation errors', async () => {
    await loadRun(0, 2000);
  });

  test('load, paced at 1,000/s: 2,000 orders, all echoed, no validation errors', async () => {
    await loadRun(1000, 2000);
  });

  test('scenario: NOS echoed as 35=D; an unsupported message gets a BusinessMessageReject', async () => {
    const { run } = await scenarioRun('echo', {
      name: 'echo NOS',
      timeout_ms: 5000,
      strict_end: true,
      defaults: { Symbol: 'AAPL' },
      steps: [
        { op: 'nos', ClOrdID: 'E1-${RUN}', Side: '2', OrdType: '2', Price: '10.50', OrderQty: 100 },
        {
          op: 'expect',
          msg: 'D',
          fields: { ClOrdID: 'E1-${RUN}', Symbol: 'AAPL', Side: '2', OrdType: '2', Price: 10.5, OrderQty: 100, HandlInst: '1', PossDupFlag: null },
        },
        {
          op: 'send',
          name: 'NOS built field by field',
          msg: 'D',
          fields: { ClOrdID: 'E2-${RUN}', HandlInst: '1', Symbol: 'MSFT', Side: '1', TransactTime: '20240101-00:00:00.000', OrderQty: '7', OrdType: '1' },
        },
        { op: 'expect', msg: 'D', fields: { ClOrdID: 'E2-${RUN}', Symbol: 'MSFT', OrdType: '1', Price: null, OrderQty: 7 } },
        { op: 'status', name: 'OrderStatusRequest is not supported by echo', ClOrdID: 'E1-${RUN}' },
        { op: 'expect', msg: 'j', fields: { RefMsgType: 'H', BusinessRejectReason: '3' } },
      ],
    });
    expectAllPassed(run);
  });

  test('scenario: logout/logon and a TCP drop with resend and gap fill, validation errors stay 0', async () => {
    const { run, logs } = await scenarioRun('reconnect', {
      name: 'echo reconnect',
      timeout_ms: 5000,
      strict_end: true,
      defaults: { Symbol: 'AAPL' },
      steps: [
        { op: 'nos', ClOrdID: 'R1-${RUN}' },
        { op: 'expect', msg: 'D', fields: { ClOrdID: 'R1-${RUN}' } },
        { op: 'logout' },
        { op: 'wait', ms: 200 },
        { op: 'logon', name: 'sequence numbers continue (ResetOnLogon=N)' },
        { op: 'nos', ClOrdID: 'R2-${RUN}' },
        { op: 'expect', msg: 'D', fields: { ClOrdID: 'R2-${RUN}' } },
        // The gateway writes an echo only after its fsync, so the echoes of orders sent right
        // before the drop are stored but never reach the client: after the re-logon it sees a
        // gap, sends a ResendRequest, and gets them resent (43=Y, 122) plus a gap fill.
        { op: 'nos', ClOrdID: 'R3-${RUN}' },
        { op: 'nos', ClOrdID: 'R4-${RUN}' },
        { op: 'nos', ClOrdID: 'R5-${RUN}' },
        { op: 'drop', name: 'TCP drop without Logout, automatic re-logon' },
        { op: 'expect', msg: 'D', fields: { ClOrdID: 'R3-${RUN}' } },
        { op: 'expect', msg: 'D', fields: { ClOrdID: 'R4-${RUN}' } },
        { op: 'expect', msg: 'D', fields: { ClOrdID: 'R5-${RUN}' } },
        { op: 'nos', ClOrdID: 'R6-${RUN}' },
        { op: 'expect', msg: 'D', fields: { ClOrdID: 'R6-${RUN}' } },
      ],
    });
    expectAllPassed(run);

    const ev = logs.events.join('\n');
    expect(ev).toMatch(/Received logout request/);
    expect(ev).toMatch(/Received ResendRequest/);
    expect(logs.events.filter((e) => e.includes('Received logon')).length).toBe(3);
    expect(logs.events.filter((e) => /Rejected|too low|Error|Garbled/.test(e))).toEqual([]);
    const resentOrders = logs.outgoing.filter((m) => field(m, 35) === 'D' && field(m, 43) === 'Y');
    const gapFills = logs.outgoing.filter((m) => field(m, 35) === '4' && field(m, 123) === 'Y');
    // eslint-disable-next-line no-console
    console.log(
      `reconnect: resent ${resentOrders.length} echoes (${resentOrders.map((m) => field(m, 11)).join(', ')}), ` +
        `${gapFills.length} gap fill(s) (${gapFills.map((m) => `${field(m, 34)}->${field(m, 36)}`).join(', ')})`,
    );
    expect(resentOrders.length).toBeGreaterThanOrEqual(1);
    for (const m of resentOrders) expect(field(m, 122)).toMatch(/^\d{8}-\d\d:\d\d:\d\d\.\d{3}$/);
    expect(gapFills.length).toBeGreaterThanOrEqual(1);
  });
});
