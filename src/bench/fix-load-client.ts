// What the FIX benchmarks share: a lean load client (pre-encoded NewOrderSingle templates: per
// message only MsgSeqNum, SendingTime/TransactTime, ClOrdID, BodyLength and CheckSum are filled in;
// a minimal reply parser: framing by BodyLength, then 35, 11 and whatever the reply check reads),
// the phase drivers (windowed, paced), child processes (the gateway, a simulator) with their CPU
// time from /proc, flag parsing and the result table.
//
// ClOrdIDs are `<phase letter><index>`: a reply is matched to its order without a map lookup.
// Latency = from just before the socket write that carries an order to the parse of its first reply.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { performance } from 'perf_hooks';

// ------------------------------------------------------------------------------------ flags

/** `--name value`, `--name=value` and the boolean flags; each flag also reads BENCH_<NAME> from the environment. */
export class BenchFlags {
  private readonly flags = new Map<string, string>();

  constructor(
    argv: string[],
    private readonly env: NodeJS.ProcessEnv,
    known: string[],
    booleans: string[] = ['keep'],
  ) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
      const eq = a.indexOf('=');
      if (eq > 0) this.flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (booleans.includes(a.slice(2))) this.flags.set(a.slice(2), '1');
      else this.flags.set(a.slice(2), argv[++i] ?? '');
    }
    for (const k of this.flags.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.join(', ')})`);
  }

  get(name: string): string | undefined {
    return this.flags.get(name) ?? this.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  }

  num(name: string, dflt: number, min: number): number {
    const v = this.get(name);
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  }

  bool(name: string): boolean {
    return ['1', 'Y', 'y', 'true'].includes(this.get(name) ?? '');
  }

  /** A space-separated list (e.g. extra node arguments for a child). */
  list(name: string): string[] {
    return (this.get(name) ?? '').split(/\s+/).filter((s) => s !== '');
  }
}

// ------------------------------------------------------------------------------------ encoding

export const SOH = '\x01';

function sumOf(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) n += s.charCodeAt(i);
  return n;
}

export function digitSum(n: number): number {
  let s = 0;
  do {
    s += 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return s;
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

const HEAD_A = `8=FIX.4.2${SOH}9=`;
const HEAD_A_SUM = sumOf(HEAD_A) + 1; // + the SOH after BodyLength

/** A NewOrderSingle template: the fixed pieces and their byte sums are computed once. */
class NosTemplate {
  private readonly a = `35=D${SOH}34=`; // seq
  private readonly b: string; // SendingTime
  private readonly c: string; // ClOrdID
  private readonly d: string; // the order fields, TransactTime
  private readonly fixedLen: number;
  private readonly fixedSum: number;

  /** `fields`: the body after ClOrdID and before TransactTime, SOH-separated without a trailing SOH. */
  constructor(sender: string, target: string, fields: string) {
    this.b = `${SOH}49=${sender}${SOH}52=`;
    this.c = `${SOH}56=${target}${SOH}11=`;
    this.d = `${SOH}${fields}${SOH}60=`;
    const e = SOH;
    this.fixedLen = this.a.length + this.b.length + this.c.length + this.d.length + e.length;
    this.fixedSum = sumOf(this.a) + sumOf(this.b) + sumOf(this.c) + sumOf(this.d) + sumOf(e);
  }

  encode(seq: number, clOrdId: string, clOrdIdSum: number): string {
    const ts = timestamp();
    const seqText = String(seq);
    const bodyLen = this.fixedLen + seqText.length + 2 * ts.length + clOrdId.length;
    const lenText = String(bodyLen);
    const cs = (HEAD_A_SUM + digitSum(bodyLen) + this.fixedSum + digitSum(seq) + 2 * tsSum + clOrdIdSum) & 0xff;
    return (
      HEAD_A + lenText + SOH + this.a + seqText + this.b + ts + this.c + clOrdId + this.d + ts + SOH +
      '10=' + (cs < 10 ? '00' + cs : cs < 100 ? '0' + cs : String(cs)) + SOH
    );
  }
}

// ------------------------------------------------------------------------------------ client

export interface Phase {
  name: string;
  /** ClOrdID prefix letter. */
  tag: string;
  count: number;
  sentAt: Float64Array;
  latency: Float64Array;
  answered: number;
  sent: number;
  firstSend: number;
  firstReply: number;
  lastReply: number;
  /** When the last order was handed to the socket. */
  lastSend: number;
  onReply?: () => void;
}

export interface LoadClientOptions {
  sender: string;
  target: string;
  /** NewOrderSingle body after ClOrdID, before TransactTime, e.g. `21=1\x0138=100\x0140=2...`. */
  orderFields: string;
  /** The MsgType that answers an order ('D' for the echo application, '8' for the gateway). */
  replyType: string;
  /** Plural noun for messages (e.g. "echoes"). */
  replyNoun: string;
  /** A singular noun for one reply in problem reports (e.g. "echo"). */
  replyName: string;
  /** Checks a reply (buf[bodyStart..end) is the message body); returns a problem or undefined. */
  checkReply?: (buf: Buffer, bodyStart: number, end: number) => string | undefined;
}

/** How many problems are kept verbatim; the rest are only counted. */
const MAX_PROBLEMS_KEPT = 50;

export class FixLoadClient {
  private socket!: net.Socket;
  private seq = 1;
  private pending: Buffer | undefined;
  private phases = new Map<string, Phase>();
  private waiters: Array<{ type: string; resolve: (raw: string) => void }> = [];
  private outChunk = '';
  private drained: Promise<void> | undefined;
  private readonly template: NosTemplate;
  readonly problems: string[] = [];
  problemCount = 0;
  /** Replies whose checkReply found a problem (they still count as answers for latency and flow). */
  badReplies = 0;

  constructor(readonly opts: LoadClientOptions) {
    this.template = new NosTemplate(opts.sender, opts.target, opts.orderFields);
  }

  problem(text: string): void {
    this.problemCount++;
    if (this.problems.length < MAX_PROBLEMS_KEPT) this.problems.push(text);
  }

  async connect(port: number): Promise<void> {
    this.socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket.on('data', (b: Buffer) => this.onData(b));
    this.socket.on('error', (err) => this.problem(`socket error: ${err.message}`));
    const reply = this.expect('A');
    this.socket.write(this.encode('A', `98=0${SOH}108=60${SOH}141=Y${SOH}`), 'latin1');
    const logon = await withTimeout(reply, 10_000, 'no Logon reply from the gateway');
    if (!logon.includes(`${SOH}141=Y${SOH}`)) throw new Error('Logon reply without 141=Y');
  }

  async logout(): Promise<void> {
    const reply = this.expect('5');
    this.socket.write(this.encode('5', ''), 'latin1');
    await withTimeout(reply, 5_000, 'no Logout reply').catch((e) => this.problem(String(e)));
    this.socket.destroy();
  }

  /** Generic message: header filled in, body given (used for the few admin messages). */
  private encode(msgType: string, body: string): string {
    const b = `35=${msgType}${SOH}34=${this.seq++}${SOH}49=${this.opts.sender}${SOH}52=${timestamp()}${SOH}56=${this.opts.target}${SOH}${body}`;
    const head = `8=FIX.4.2${SOH}9=${b.length}${SOH}`;
    const cs = (sumOf(head) + sumOf(b)) & 0xff;
    return `${head}${b}10=${String(cs).padStart(3, '0')}${SOH}`;
  }

  private expect(type: string): Promise<string> {
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }

  newPhase(name: string, tag: string, count: number): Phase {
    if (this.phases.has(tag)) throw new Error(`phase tag ${tag} used twice`);
    const p: Phase = {
      name,
      tag,
      count,
      sentAt: new Float64Array(count),
      latency: new Float64Array(count),
      answered: 0,
      sent: 0,
      firstSend: 0,
      firstReply: 0,
      lastReply: 0,
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
      chunk += this.template.encode(this.seq++, id, p.tag.charCodeAt(0) + digitSum(i));
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
    if (ok) return undefined;
    // One 'drain' listener however many writers wait (the paced driver does not wait).
    this.drained ??= new Promise<void>((resolve) =>
      this.socket.once('drain', () => {
        this.drained = undefined;
        resolve();
      }),
    );
    return this.drained;
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
        this.problem(`unframed input at ${pos}: ${buf.toString('latin1', pos, pos + 40)}`);
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
      if (p.onReply) p.onReply();
    }
  }

  private onMessage(buf: Buffer, bodyStart: number, end: number, now: number): void {
    // 35 is the first body field.
    const t0 = bodyStart + 3;
    const t1 = buf.indexOf(1, t0);
    const type = buf.toString('latin1', t0, t1);
    if (type === this.opts.replyType) {
      const at = buf.indexOf('\x0111=', t1, 'latin1');
      if (at < 0 || at > end) {
        this.problem(`${this.opts.replyName} without ClOrdID: ${printable(buf, bodyStart, end)}`);
        return;
      }
      const tag = String.fromCharCode(buf[at + 4]);
      let i = 0;
      let k = at + 5;
      while (buf[k] !== 1) i = i * 10 + (buf[k++] - 48);
      const p = this.phases.get(tag);
      if (!p || i >= p.count || p.latency[i] !== 0) {
        this.problem(`unexpected or duplicate ${this.opts.replyName} ${tag}${i}: ${printable(buf, bodyStart, end)}`);
        return;
      }
      p.latency[i] = now - p.sentAt[i];
      if (p.answered++ === 0) p.firstReply = now;
      p.lastReply = now;
      const bad = this.opts.checkReply?.(buf, bodyStart, end);
      if (bad !== undefined) {
        this.badReplies++;
        this.problem(`${tag}${i}: ${bad}`);
      }
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
      this.socket.write(this.encode('0', `112=${id}${SOH}`), 'latin1');
      return;
    }
    if (type === '0') return;
    this.problem(`unexpected 35=${type}: ${raw.replace(/\x01/g, '|')}`);
  }
}

export function printable(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end).replace(/\x01/g, '|');
}

/** The value of `tag` in buf[start..end) (the first occurrence), or undefined. */
export function fieldOf(buf: Buffer, start: number, end: number, tag: string): string | undefined {
  const at = buf.indexOf(`\x01${tag}=`, start - 1, 'latin1');
  if (at < 0 || at >= end) return undefined;
  const from = at + tag.length + 2;
  const to = buf.indexOf(1, from);
  return buf.toString('latin1', from, to < 0 || to > end ? end : to);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
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

/** Keeps up to `window` orders outstanding (0 = no limit) until all are sent and answered. */
export function runWindowed(client: FixLoadClient, p: Phase, window: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let writing = false;
    const timer = setTimeout(() => {
      p.onReply = undefined;
      reject(new Error(`${p.name}: only ${p.answered} of ${p.count} ${client.opts.replyNoun} within ${timeoutMs} ms`));
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
        p.onReply = undefined;
        resolve();
      }
    };
    p.onReply = () => void pump();
    void pump();
  });
}

/** Open loop: order i is due at start + i / rate; every order that is due is sent at once. */
export function runPaced(client: FixLoadClient, p: Phase, rate: number, timeoutMs: number): Promise<{ maxLagMs: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let maxLagMs = 0;
    const deadline = setTimeout(() => {
      p.onReply = undefined;
      reject(new Error(`${p.name}: only ${p.answered} of ${p.count} ${client.opts.replyNoun} within ${timeoutMs} ms`));
    }, timeoutMs);
    p.onReply = () => {
      if (p.answered === p.count) {
        clearTimeout(deadline);
        p.onReply = undefined;
        resolve({ maxLagMs });
      }
    };
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(p.count, Math.floor(((now - start) * rate) / 1000) + 1);
      if (due > p.sent) {
        const lag = now - (start + (p.sent * 1000) / rate);
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

// ------------------------------------------------------------------------------------ child processes

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('repo root (package.json) not found');
  }
}

/** Children still running: SIGKILLed if this process exits without stopping them. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHooks(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of liveChildren) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
  // Ctrl-C / kill: ask the children to stop (so a --cpu-prof child still writes its profile), then exit.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping ${liveChildren.size} child process(es)\n`);
      const all = [...liveChildren];
      for (const c of all) c.kill('SIGTERM');
      const hard = setTimeout(() => process.exit(130), 5_000);
      let left = all.length;
      if (left === 0) process.exit(130);
      for (const c of all) {
        c.once('exit', () => {
          if (--left === 0) {
            clearTimeout(hard);
            process.exit(130);
          }
        });
      }
    });
  }
}

/** How much of a child's output is kept for error reports. */
const OUTPUT_KEPT = 256 * 1024;

export class NodeChild {
  private out = '';
  /** Characters of output seen in all (out keeps only the last ones). */
  private outTotal = 0;
  private exited = false;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    logFile?: string,
  ) {
    liveChildren.add(child);
    const log = logFile ? fs.createWriteStream(logFile) : undefined;
    if (log) child.once('exit', () => log.end());
    const onData = (b: Buffer) => {
      log?.write(b);
      const text = b.toString();
      this.out += text;
      this.outTotal += text.length;
      if (this.out.length > 2 * OUTPUT_KEPT) this.out = this.out.slice(-OUTPUT_KEPT);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => {
      this.exited = true;
      liveChildren.delete(child);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** A position in the output, for outputSince. */
  outputMark(): number {
    return this.outTotal;
  }

  /** The output after `mark` (as much of it as is still kept). */
  outputSince(mark: number): string {
    const keptFrom = this.outTotal - this.out.length;
    return this.out.slice(Math.max(0, mark - keptFrom));
  }

  /** The last output (stdout and stderr interleaved), at most OUTPUT_KEPT characters. */
  output(): string {
    return this.out.slice(-OUTPUT_KEPT);
  }

  /**
   * Starts `node [nodeArgs] script [args]` in `cwd` and waits until its output contains `ready`
   * (e.g. `"gateway started"`); SIGKILLs it if that does not happen within timeoutMs. All its
   * output also goes to `logFile` when given.
   */
  static async start(
    name: string,
    opts: {
      nodeArgs: string[];
      script: string;
      args: string[];
      cwd: string;
      ready: string;
      timeoutMs?: number;
      logFile?: string;
      /** Added to this process's environment. */
      env?: Record<string, string>;
    },
  ): Promise<NodeChild> {
    installExitHooks();
    const child = spawn(process.execPath, [...opts.nodeArgs, opts.script, ...opts.args], {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
    });
    const c = new NodeChild(name, child, opts.logFile);
    await c.waitFor(opts.ready, opts.timeoutMs ?? 30_000).catch((err) => {
      child.kill('SIGKILL');
      throw err;
    });
    return c;
  }

  /** Waits until the output (from the start) contains `text`. */
  waitFor(text: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let seen = '';
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.child.removeListener('exit', onExit);
        this.child.stdout!.removeListener('data', check);
        this.child.stderr!.removeListener('data', check);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`${this.name} did not log ${text} within ${timeoutMs / 1000} s:\n${this.output()}`)), timeoutMs);
      const onExit = (code: number | null) => done(new Error(`${this.name} exited with ${code} before it logged ${text}:\n${this.output()}`));
      const check = (b?: Buffer) => {
        // Keep only enough to find a marker split across chunks.
        seen = (seen + (b ? b.toString() : '')).slice(-(text.length + 64 * 1024));
        if (seen.includes(text)) done();
      };
      if (this.out.includes(text)) return resolve();
      if (this.exited) return reject(new Error(`${this.name} exited before it logged ${text}:\n${this.output()}`));
      this.child.once('exit', onExit);
      this.child.stdout!.on('data', check);
      this.child.stderr!.on('data', check);
    });
  }

  /** SIGTERM, SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve(this.child.exitCode);
      const hard = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      this.child.once('exit', (code) => {
        clearTimeout(hard);
        resolve(code);
      });
      this.child.kill('SIGTERM');
    });
  }
}

// ------------------------------------------------------------------------------------ CPU time

const CLK_TCK = 100; // Linux USER_HZ

export interface CpuTime {
  user: number;
  sys: number;
}

/** CPU time of a process in ms (user, system), from /proc; NaN where there is no /proc. */
export function cpuOf(pid: number | undefined): CpuTime {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(f[11]) * 1000) / CLK_TCK, sys: (Number(f[12]) * 1000) / CLK_TCK }; // fields 14, 15
  } catch {
    return { user: NaN, sys: NaN };
  }
}

export function cpuSince(pid: number | undefined, from: CpuTime): CpuTime {
  const now = cpuOf(pid);
  return { user: now.user - from.user, sys: now.sys - from.sys };
}

// ------------------------------------------------------------------------------------ report

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export interface Row {
  phase: string;
  orders: number;
  window: string;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  min: number;
  firstReplyMs: number;
  lastSendMs: number;
  /** CPU time per child over the phase, in table column order (e.g. gw, sim). */
  cpu: Array<{ name: string } & CpuTime>;
  note: string;
}

export function rowOf(p: Phase, window: string, cpu: Row['cpu'], note = ''): Row {
  const lat = Float64Array.from(p.latency.subarray(0, p.answered)).sort();
  const seconds = (p.lastReply - p.firstSend) / 1000;
  return {
    phase: p.name,
    orders: p.answered,
    window,
    seconds,
    rate: p.answered / seconds,
    p50: percentile(lat, 0.5) * 1000,
    p99: percentile(lat, 0.99) * 1000,
    p999: percentile(lat, 0.999) * 1000,
    max: lat.length ? lat[lat.length - 1] * 1000 : NaN,
    min: lat.length ? lat[0] * 1000 : NaN,
    firstReplyMs: p.firstReply - p.firstSend,
    lastSendMs: p.lastSend - p.firstSend,
    cpu,
    note,
  };
}

/** `rateHeader` e.g. "round trips/s", `firstReplyHeader` e.g. "1st echo ms". */
export function printTable(rows: Row[], labels: { rateHeader: string; firstReplyHeader: string }): void {
  const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');
  const cpuNames = rows[0]?.cpu.map((c) => c.name) ?? [];
  const header = [
    'phase', 'orders', 'window', 'time s', labels.rateHeader, 'min µs', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs',
    labels.firstReplyHeader, 'last send ms',
    ...cpuNames.flatMap((n) => [`${n} CPU usr+sys ms`, `${n} µs/order`]),
    'note',
  ];
  const lines = rows.map((r) => [
    r.phase,
    fmt(r.orders),
    r.window,
    fmt(r.seconds, 3),
    fmt(r.rate),
    fmt(r.min),
    fmt(r.p50),
    fmt(r.p99),
    fmt(r.p999),
    fmt(r.max),
    fmt(r.firstReplyMs, 1),
    fmt(r.lastSendMs, 1),
    ...r.cpu.flatMap((c) => [`${fmt(c.user)}+${fmt(c.sys)}`, fmt(((c.user + c.sys) * 1000) / r.orders, 1)]),
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(line(l));
}

/** The node flags the gateway ships with (Dockerfile ENTRYPOINT, npm start). */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/**
 * Starts `dist/main.js` as a child with one session GATEWAY<-clientCompId on a free port, a fresh
 * durable store and the message log on (as shipped). `sessionKeys` are the session's own lines
 * (Application=..., Venue...=...).
 */
export async function startBenchGateway(opts: {
  dir: string;
  root: string;
  clientCompId: string;
  sessionKeys: string[];
  nodeArgs: string[];
  logFile?: string;
  env?: Record<string, string>;
  /**
   * ResetOnLogon (default true). The store is fresh per run, so nothing needs the reset; but a
   * session that resets its sequence at Logon never gets the pre-save overlapped with the venue
   * call (GatewayOptions.sequenceSurvivesRestart), so the gateway bench keeps its sequence.
   */
  resetOnLogon?: boolean;
}): Promise<{ gw: NodeChild; port: number }> {
  const port = await freePort();
  const cfg = path.join(opts.dir, 'bench.cfg');
  fs.writeFileSync(
    cfg,
    [
      '[DEFAULT]',
      'BeginString=FIX.4.2',
      'SocketAcceptHost=127.0.0.1',
      `SocketAcceptPort=${port}`,
      'HeartBtInt=60',
      `FileStorePath=${path.join(opts.dir, 'store')}`,
      `FileLogPath=${path.join(opts.dir, 'log')}`,
      `DataDictionary=${path.join(opts.root, 'dictionaries', 'FIX42.xml')}`,
      `ResetOnLogon=${opts.resetOnLogon === false ? 'N' : 'Y'}`,
      'StartTime=00:00:00',
      'EndTime=00:00:00',
      '',
      '[SESSION]',
      'SenderCompID=GATEWAY',
      `TargetCompID=${opts.clientCompId}`,
      ...opts.sessionKeys,
      '',
    ].join('\n'),
  );
  const gw = await NodeChild.start('gateway', {
    // As shipped (Dockerfile, npm start); --gateway-args come after, so they can override it.
    nodeArgs: [...GATEWAY_NODE_FLAGS, ...opts.nodeArgs],
    script: path.join(opts.root, 'dist', 'main.js'),
    args: ['--config', cfg],
    cwd: opts.dir,
    ready: '"gateway started"',
    logFile: opts.logFile,
    env: opts.env,
  });
  return { gw, port };
}
