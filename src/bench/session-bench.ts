// Session benchmark: the gateway (dist/main.js) runs as a separate child process with one echo
// session, a durable file store (fdatasync before a message is written, the default), ResetOnLogon=Y
// and the message log on, as shipped. This process is the FIX client: a lean one, with pre-encoded
// NewOrderSingle templates (per message only MsgSeqNum, SendingTime/TransactTime, ClOrdID,
// BodyLength and CheckSum are filled in) and a minimal reply parser (framing by BodyLength, 35 and
// 11 only). Phases, on one session after a warm-up:
//
//   burst          N orders written as fast as the socket takes them (at most --window outstanding,
//                  0 = no limit); round trips/s = N / (first send .. last echo)
//   one at a time  ping-pong (window 1): every order waits for its echo before the next is sent
//   paced          open-loop at --rate orders/s for --seconds
//
// Latency = from just before the socket write that carries an order to the parse of its echo.
// Also printed: the load average and the gateway child's CPU time (from /proc) per phase.
//
//   npm run bench:session -- [--count 20000] [--window 0] [--pingpong 5000] [--rate 1000]
//                            [--seconds 5] [--warmup 2000] [--keep] [--gateway-args "--cpu-prof"]
// Every flag also reads from the environment: BENCH_COUNT, BENCH_WINDOW, BENCH_PINGPONG, BENCH_RATE,
// BENCH_SECONDS, BENCH_WARMUP, BENCH_KEEP=1, BENCH_GATEWAY_ARGS.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';

// ------------------------------------------------------------------------------------ options

interface Options {
  count: number;
  window: number;
  pingpong: number;
  rate: number;
  seconds: number;
  warmup: number;
  keep: boolean;
  gatewayArgs: string[];
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a === '--keep') flags.set('keep', '1');
    else flags.set(a.slice(2), argv[++i] ?? '');
  }
  const known = ['count', 'window', 'pingpong', 'rate', 'seconds', 'warmup', 'keep', 'gateway-args'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.join(', ')})`);
  const get = (name: string): string | undefined => flags.get(name) ?? env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const num = (name: string, dflt: number, min: number): number => {
    const v = get(name);
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  return {
    count: Math.floor(num('count', 20_000, 1)),
    window: Math.floor(num('window', 0, 0)),
    pingpong: Math.floor(num('pingpong', 5_000, 0)),
    rate: num('rate', 1_000, 0),
    seconds: num('seconds', 5, 0),
    warmup: Math.floor(num('warmup', 2_000, 0)),
    keep: ['1', 'Y', 'y', 'true'].includes(get('keep') ?? ''),
    gatewayArgs: (get('gateway-args') ?? '').split(/\s+/).filter((s) => s !== ''),
  };
}

// ------------------------------------------------------------------------------------ encoding

const SOH = '\x01';
const SENDER = 'BENCH';
const TARGET = 'GATEWAY';

function sumOf(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) n += s.charCodeAt(i);
  return n;
}

/** UTCTimestamp with milliseconds, cached per millisecond. */
let tsMs = -1;
let tsText = '';
let tsSum = 0;
function timestamp(): string {
  const now = Date.now();
  if (now !== tsMs) {
    const iso = new Date(now).toISOString();
    tsText = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + '-' + iso.slice(11, 23);
    tsSum = sumOf(tsText);
    tsMs = now;
  }
  return tsText;
}

/** Generic message: header filled in, body given (used for the few admin messages). */
function encode(msgType: string, seq: number, body: string): string {
  const b = `35=${msgType}${SOH}34=${seq}${SOH}49=${SENDER}${SOH}52=${timestamp()}${SOH}56=${TARGET}${SOH}${body}`;
  const head = `8=FIX.4.2${SOH}9=${b.length}${SOH}`;
  const cs = (sumOf(head) + sumOf(b)) & 0xff;
  return `${head}${b}10=${String(cs).padStart(3, '0')}${SOH}`;
}

// NewOrderSingle template: the fixed pieces and their byte sums are computed once.
const NOS_A = `35=D${SOH}34=`; // seq
const NOS_B = `${SOH}49=${SENDER}${SOH}52=`; // SendingTime
const NOS_C = `${SOH}56=${TARGET}${SOH}11=`; // ClOrdID
const NOS_D = `${SOH}21=1${SOH}38=100${SOH}40=2${SOH}44=10.00${SOH}54=1${SOH}55=AAPL${SOH}59=0${SOH}60=`; // TransactTime
const NOS_E = SOH;
const NOS_FIXED_LEN = NOS_A.length + NOS_B.length + NOS_C.length + NOS_D.length + NOS_E.length;
const NOS_FIXED_SUM = sumOf(NOS_A) + sumOf(NOS_B) + sumOf(NOS_C) + sumOf(NOS_D) + sumOf(NOS_E);
const HEAD_A = `8=FIX.4.2${SOH}9=`;
const HEAD_A_SUM = sumOf(HEAD_A) + 1; // + the SOH after BodyLength

function digitSum(n: number): number {
  let s = 0;
  do {
    s += 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return s;
}

function nos(seq: number, clOrdId: string, clOrdIdSum: number): string {
  const ts = timestamp();
  const seqText = String(seq);
  const bodyLen = NOS_FIXED_LEN + seqText.length + 2 * ts.length + clOrdId.length;
  const lenText = String(bodyLen);
  const cs = (HEAD_A_SUM + digitSum(bodyLen) + NOS_FIXED_SUM + digitSum(seq) + 2 * tsSum + clOrdIdSum) & 0xff;
  return (
    HEAD_A + lenText + SOH + NOS_A + seqText + NOS_B + ts + NOS_C + clOrdId + NOS_D + ts + NOS_E +
    '10=' + (cs < 10 ? '00' + cs : cs < 100 ? '0' + cs : String(cs)) + SOH
  );
}

// ------------------------------------------------------------------------------------ client

interface Phase {
  name: string;
  /** ClOrdID prefix letter. */
  tag: string;
  count: number;
  sentAt: Float64Array;
  latency: Float64Array;
  answered: number;
  sent: number;
  firstSend: number;
  firstEcho: number;
  lastEcho: number;
  /** When the last order was handed to the socket. */
  lastSend: number;
  onEcho?: () => void;
}

class BenchClient {
  private socket!: net.Socket;
  private seq = 1;
  private pending: Buffer | undefined;
  private phases = new Map<string, Phase>();
  private waiters: Array<{ type: string; resolve: (raw: string) => void }> = [];
  private outChunk = '';
  readonly problems: string[] = [];

  async connect(port: number): Promise<void> {
    this.socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket.on('data', (b: Buffer) => this.onData(b));
    this.socket.on('error', (err) => this.problems.push(`socket error: ${err.message}`));
    const reply = this.expect('A');
    this.socket.write(encode('A', this.seq++, `98=0${SOH}108=60${SOH}141=Y${SOH}`), 'latin1');
    const logon = await withTimeout(reply, 10_000, 'no Logon reply from the gateway');
    if (!logon.includes(`${SOH}141=Y${SOH}`)) throw new Error('Logon reply without 141=Y');
  }

  async logout(): Promise<void> {
    const reply = this.expect('5');
    this.socket.write(encode('5', this.seq++, ''), 'latin1');
    await withTimeout(reply, 5_000, 'no Logout reply').catch((e) => this.problems.push(String(e)));
    this.socket.destroy();
  }

  private expect(type: string): Promise<string> {
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }

  newPhase(name: string, tag: string, count: number): Phase {
    const p: Phase = {
      name,
      tag,
      count,
      sentAt: new Float64Array(count),
      latency: new Float64Array(count),
      answered: 0,
      sent: 0,
      firstSend: 0,
      firstEcho: 0,
      lastEcho: 0,
      lastSend: 0,
    };
    this.phases.set(tag, p);
    return p;
  }

  /** Encodes the next `n` orders of the phase into the out chunk (written by flush()). */
  queueOrders(p: Phase, n: number): void {
    let chunk = this.outChunk;
    const now = performance.now();
    if (p.sent === 0) p.firstSend = now;
    for (let k = 0; k < n && p.sent < p.count; k++) {
      const i = p.sent++;
      const id = p.tag + i;
      chunk += nos(this.seq++, id, p.tag.charCodeAt(0) + digitSum(i));
      p.sentAt[i] = now;
    }
    p.lastSend = now;
    this.outChunk = chunk;
  }

  /** Writes the out chunk; resolves when the socket can take more (backpressure). */
  flush(): Promise<void> | undefined {
    if (this.outChunk === '') return undefined;
    const ok = this.socket.write(this.outChunk, 'latin1');
    this.outChunk = '';
    return ok ? undefined : new Promise((resolve) => this.socket.once('drain', () => resolve()));
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      // 8=FIX.4.2<SOH>9=NNN<SOH> ... 10=nnn<SOH>
      if (buf.length - pos < 16) break;
      const lenAt = pos + 12; // after "8=FIX.4.2\x019="
      if (buf[pos] !== 0x38 || buf[lenAt - 2] !== 0x39 || buf[lenAt - 1] !== 0x3d) {
        this.problems.push(`unframed input at ${pos}: ${buf.toString('latin1', pos, pos + 40)}`);
        this.socket.destroy();
        return;
      }
      let len = 0;
      let j = lenAt;
      while (j < buf.length && buf[j] !== 1) len = len * 10 + (buf[j++] - 48);
      if (j >= buf.length) break;
      const bodyStart = j + 1;
      const end = bodyStart + len + 7; // "10=nnn<SOH>"
      if (end > buf.length) break;
      this.onMessage(buf, bodyStart, end, now);
      pos = end;
    }
    this.pending = pos < buf.length ? Buffer.from(buf.subarray(pos)) : undefined;
    for (const p of this.phases.values()) {
      if (p.onEcho) p.onEcho();
    }
  }

  private onMessage(buf: Buffer, bodyStart: number, end: number, now: number): void {
    // 35 is the first body field.
    const t0 = bodyStart + 3;
    const t1 = buf.indexOf(1, t0);
    const type = buf.toString('latin1', t0, t1);
    if (type === 'D') {
      const at = buf.indexOf('\x0111=', t1, 'latin1');
      if (at < 0 || at > end) {
        this.problems.push('echo without ClOrdID');
        return;
      }
      const tag = String.fromCharCode(buf[at + 4]);
      let i = 0;
      let k = at + 5;
      while (buf[k] !== 1) i = i * 10 + (buf[k++] - 48);
      const p = this.phases.get(tag);
      if (!p || i >= p.count || p.latency[i] !== 0) {
        this.problems.push(`unexpected or duplicate echo ${tag}${i}`);
        return;
      }
      p.latency[i] = now - p.sentAt[i];
      if (p.answered++ === 0) p.firstEcho = now;
      p.lastEcho = now;
      return;
    }
    const raw = buf.toString('latin1', bodyStart, end);
    const w = this.waiters.findIndex((x) => x.type === type);
    if (w >= 0) {
      this.waiters.splice(w, 1)[0].resolve(raw);
      return;
    }
    if (type === '1') {
      const id = /\x01112=([^\x01]*)\x01/.exec(raw)?.[1] ?? '';
      this.socket.write(encode('0', this.seq++, `112=${id}${SOH}`), 'latin1');
      return;
    }
    if (type === '0') return;
    this.problems.push(`unexpected 35=${type}: ${raw.replace(/\x01/g, '|')}`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

// ------------------------------------------------------------------------------------ phases

/** Keeps up to `window` orders outstanding (0 = no limit) until all are sent and echoed. */
function runWindowed(client: BenchClient, p: Phase, window: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let writing = false;
    const timer = setTimeout(() => {
      p.onEcho = undefined;
      reject(new Error(`${p.name}: only ${p.answered} of ${p.count} echoes within ${timeoutMs} ms`));
    }, timeoutMs);
    const pump = async (): Promise<void> => {
      if (writing) return;
      writing = true;
      try {
        while (p.sent < p.count) {
          const room = window > 0 ? window - (p.sent - p.answered) : 512;
          if (room <= 0) break;
          client.queueOrders(p, Math.min(room, 512));
          const drained = client.flush();
          if (drained) await drained;
        }
      } finally {
        writing = false;
      }
      if (p.answered === p.count) {
        clearTimeout(timer);
        p.onEcho = undefined;
        resolve();
      }
    };
    p.onEcho = () => void pump();
    void pump();
  });
}

/** Open loop: order i is due at start + i / rate; every order that is due is sent at once. */
function runPaced(client: BenchClient, p: Phase, rate: number, timeoutMs: number): Promise<{ maxLagMs: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let maxLagMs = 0;
    const deadline = setTimeout(() => {
      p.onEcho = undefined;
      reject(new Error(`${p.name}: only ${p.answered} of ${p.count} echoes within ${timeoutMs} ms`));
    }, timeoutMs);
    p.onEcho = () => {
      if (p.answered === p.count) {
        clearTimeout(deadline);
        p.onEcho = undefined;
        resolve({ maxLagMs });
      }
    };
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(p.count, Math.floor(((now - start) * rate) / 1000) + 1);
      if (due > p.sent) {
        const lag = now - (start + ((p.sent * 1000) / rate));
        if (lag > maxLagMs) maxLagMs = lag;
        client.queueOrders(p, due - p.sent);
        void client.flush();
      }
      if (p.sent < p.count) {
        const next = start + (p.sent * 1000) / rate;
        setTimeout(tick, Math.max(0, next - performance.now() - 0.05));
      }
    };
    tick();
  });
}

// ------------------------------------------------------------------------------------ gateway child

interface GatewayChild {
  child: ChildProcess;
  port: number;
  output: () => string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('repo root (package.json) not found');
  }
}

async function startGateway(dir: string, root: string, extraNodeArgs: string[]): Promise<GatewayChild> {
  const port = await freePort();
  const cfg = path.join(dir, 'bench.cfg');
  fs.writeFileSync(
    cfg,
    [
      '[DEFAULT]',
      'BeginString=FIX.4.2',
      'SocketAcceptHost=127.0.0.1',
      `SocketAcceptPort=${port}`,
      'HeartBtInt=60',
      `FileStorePath=${path.join(dir, 'store')}`,
      `FileLogPath=${path.join(dir, 'log')}`,
      `DataDictionary=${path.join(root, 'dictionaries', 'FIX42.xml')}`,
      'ResetOnLogon=Y',
      'StartTime=00:00:00',
      'EndTime=00:00:00',
      'Application=echo',
      '',
      '[SESSION]',
      `SenderCompID=${TARGET}`,
      `TargetCompID=${SENDER}`,
      '',
    ].join('\n'),
  );
  const main = path.join(root, 'dist', 'main.js');
  const child = spawn(process.execPath, [...extraNodeArgs, main, '--config', cfg], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 30 s:\n${out}`)), 30_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before it started:\n${out}`));
    };
    child.once('exit', onExit);
    const check = () => {
      if (!out.includes('"gateway started"')) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      child.stdout!.removeListener('data', check);
      resolve();
    };
    child.stdout!.on('data', check);
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return { child, port, output: () => out };
}

function stopGateway(g: GatewayChild): Promise<number | null> {
  return new Promise((resolve) => {
    if (g.child.exitCode !== null || g.child.signalCode !== null) return resolve(g.child.exitCode);
    const hard = setTimeout(() => g.child.kill('SIGKILL'), 10_000);
    g.child.once('exit', (code) => {
      clearTimeout(hard);
      resolve(code);
    });
    g.child.kill('SIGTERM');
  });
}

const CLK_TCK = 100; // Linux USER_HZ

/** CPU time of a process in ms (user, system), from /proc; NaN where there is no /proc. */
function cpuOf(pid: number | undefined): { user: number; sys: number } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(f[11]) * 1000) / CLK_TCK, sys: (Number(f[12]) * 1000) / CLK_TCK }; // fields 14, 15
  } catch {
    return { user: NaN, sys: NaN };
  }
}

function cpuSince(pid: number | undefined, from: { user: number; sys: number }): { user: number; sys: number } {
  const now = cpuOf(pid);
  return { user: now.user - from.user, sys: now.sys - from.sys };
}

// ------------------------------------------------------------------------------------ report

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

interface Row {
  phase: string;
  orders: number;
  window: string;
  seconds: number;
  rtps: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  min: number;
  firstEchoMs: number;
  lastSendMs: number;
  gwCpu: { user: number; sys: number };
  note: string;
}

function rowOf(p: Phase, window: string, gwCpu: { user: number; sys: number }, note = ''): Row {
  const lat = Float64Array.from(p.latency.subarray(0, p.answered)).sort();
  const seconds = (p.lastEcho - p.firstSend) / 1000;
  return {
    phase: p.name,
    orders: p.answered,
    window,
    seconds,
    rtps: p.answered / seconds,
    p50: percentile(lat, 0.5) * 1000,
    p99: percentile(lat, 0.99) * 1000,
    p999: percentile(lat, 0.999) * 1000,
    max: lat.length ? lat[lat.length - 1] * 1000 : NaN,
    min: lat.length ? lat[0] * 1000 : NaN,
    firstEchoMs: p.firstEcho - p.firstSend,
    lastSendMs: p.lastSend - p.firstSend,
    gwCpu,
    note,
  };
}

function printTable(rows: Row[]): void {
  const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');
  const header = [
    'phase', 'orders', 'window', 'time s', 'round trips/s', 'min µs', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs',
    '1st echo ms', 'last send ms', 'gw CPU usr+sys ms', 'gw µs/order', 'note',
  ];
  const lines = rows.map((r) => [
    r.phase,
    fmt(r.orders),
    r.window,
    fmt(r.seconds, 3),
    fmt(r.rtps),
    fmt(r.min),
    fmt(r.p50),
    fmt(r.p99),
    fmt(r.p999),
    fmt(r.max),
    fmt(r.firstEchoMs, 1),
    fmt(r.lastSendMs, 1),
    `${fmt(r.gwCpu.user)}+${fmt(r.gwCpu.sys)}`,
    fmt(((r.gwCpu.user + r.gwCpu.sys) * 1000) / r.orders, 1),
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(line(l));
}

// ------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const root = findRepoRoot(__dirname);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-bench-'));
  const load0 = os.loadavg();
  console.log(
    `session benchmark: gateway child = node dist/main.js, echo session, durable file store (fdatasync before send), ` +
      `ResetOnLogon=Y, message log on; store and logs in ${dir}`,
  );
  console.log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);

  const gw = await startGateway(dir, root, opts.gatewayArgs);
  const pid = gw.child.pid;
  let failed = false;
  const rows: Row[] = [];
  const client = new BenchClient();
  const cpu0 = process.cpuUsage();
  const gwCpuStart = cpuOf(pid);
  try {
    await client.connect(gw.port);
    const phaseTimeout = (n: number) => 60_000 + n * 10; // generous: 10 ms per order on top of a minute

    if (opts.warmup > 0) {
      const w = client.newPhase('warm-up', 'W', opts.warmup);
      await runWindowed(client, w, 100, phaseTimeout(opts.warmup));
    }

    let c0 = cpuOf(pid);
    const burst = client.newPhase('burst', 'B', opts.count);
    await runWindowed(client, burst, opts.window, phaseTimeout(opts.count));
    rows.push(rowOf(burst, opts.window === 0 ? 'none' : String(opts.window), cpuSince(pid, c0)));

    if (opts.pingpong > 0) {
      c0 = cpuOf(pid);
      const pp = client.newPhase('one at a time', 'P', opts.pingpong);
      await runWindowed(client, pp, 1, phaseTimeout(opts.pingpong));
      rows.push(rowOf(pp, '1', cpuSince(pid, c0)));
    }

    const pacedCount = Math.round(opts.rate * opts.seconds);
    if (pacedCount > 0) {
      c0 = cpuOf(pid);
      const paced = client.newPhase(`paced ${opts.rate}/s`, 'R', pacedCount);
      const { maxLagMs } = await runPaced(client, paced, opts.rate, phaseTimeout(pacedCount) + opts.seconds * 1000);
      rows.push(rowOf(paced, 'open', cpuSince(pid, c0), `client max send lag ${maxLagMs.toFixed(1)} ms`));
    }
    await client.logout();
  } catch (err) {
    failed = true;
    console.error(`benchmark failed: ${(err as Error).message}`);
  }
  const gwCpu = cpuSince(pid, gwCpuStart);
  const code = await stopGateway(gw);
  const own = process.cpuUsage(cpu0);
  const load1 = os.loadavg();

  console.log('');
  printTable(rows);
  console.log('');
  console.log(
    `gateway child: pid ${pid}, CPU ${gwCpu.user.toFixed(0)} ms user + ${gwCpu.sys.toFixed(0)} ms system over the session ` +
      `(incl. warm-up, logon/logout), exit code ${code}`,
  );
  console.log(`bench client: CPU ${((own.user + own.system) / 1000).toFixed(0)} ms`);
  console.log(`load average after: ${load1.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    'latency: from just before the socket write carrying the order to the parse of its echo; ' +
      'round trips/s = echoed orders / (first send .. last echo)',
  );
  if (client.problems.length > 0) {
    failed = true;
    console.error(`problems:\n  ${client.problems.slice(0, 20).join('\n  ')}`);
  }
  if (code !== 0) {
    failed = true;
    console.error(`gateway exited with ${code}; its output:\n${gw.output().slice(-4000)}`);
  }
  if (opts.keep) console.log(`kept ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
  // Exit explicitly: after a failed phase its timers may still be pending.
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`fatal: ${err?.stack ?? err}`);
  process.exit(1);
});
