// Runs the real gateway (`node dist/main.js --config FILE`) as a child process for end-to-end
// tests: the config is written into a temp directory (relative FileStorePath/FileLogPath land in
// it), free ports are chosen up front, and the helper waits for the "gateway started" log line.
// Every child started here is tracked; `killAllGateways()` (call it in afterEach/afterAll) SIGKILLs
// the ones still running, and a process 'exit' hook does the same if a test run dies.
//
// Config text may use placeholders: {{PORT}} (= {{PORT1}}), {{PORT2}}, ... for the chosen ports,
// {{DIR}} for the temp directory and {{DICTIONARY}} for the repo's FIX42.xml.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** The gateway entry point; FIX_E2E_GATEWAY_MAIN points the tests at another build (e.g. a patched copy). */
export const GATEWAY_MAIN = process.env.FIX_E2E_GATEWAY_MAIN ?? path.join(REPO_ROOT, 'dist', 'main.js');
export const DICTIONARY = path.join(REPO_ROOT, 'dictionaries', 'FIX42.xml');

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** A port that was free a moment ago on 127.0.0.1 (bind :0, read, close). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export type CfgValues = Record<string, string | number>;

/**
 * sessions.cfg text: a [DEFAULT] with the test defaults (echo application, 127.0.0.1:{{PORT}},
 * FileStorePath=store, FileLogPath=log, the repo dictionary, HeartBtInt=30, CheckLatency=Y,
 * MaxLatency=120, LogonFailureLimit=0), overridden by `defaults`, then one [SESSION] per entry.
 * The logon throttle is off: tests refuse logons from 127.0.0.1 on purpose, many within a minute;
 * the tests of the throttle turn it on.
 */
export function buildConfig(sessions: CfgValues[], defaults: CfgValues = {}): string {
  const d: CfgValues = {
    BeginString: 'FIX.4.2',
    SocketAcceptHost: '127.0.0.1',
    SocketAcceptPort: '{{PORT}}',
    FileStorePath: 'store',
    FileLogPath: 'log',
    DataDictionary: '{{DICTIONARY}}',
    HeartBtInt: 30,
    CheckLatency: 'Y',
    MaxLatency: 120,
    StartTime: '00:00:00',
    EndTime: '00:00:00',
    Application: 'echo',
    LogonFailureLimit: 0,
    ...defaults,
  };
  const section = (name: string, v: CfgValues) => [`[${name}]`, ...Object.entries(v).map(([k, x]) => `${k}=${x}`), ''].join('\n');
  return [section('DEFAULT', d), ...sessions.map((s) => section('SESSION', s))].join('\n');
}

/** The journal file of a session, as src/main.ts names it (sessionKey) under a store directory. */
export function journalPath(storeDir: string, senderCompId: string, targetCompId: string, beginString = 'FIX.4.2'): string {
  const key = `${beginString}-${senderCompId}-${targetCompId}`.replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(storeDir, `${key}.journal`);
}

/** Every file under `dir` (recursively) → its bytes. */
export function snapshotFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GatewayStartOptions {
  /** sessions.cfg text (placeholders as described at the top of this file). */
  config: string;
  /** Reuse this directory (e.g. to restart on the same store); default: a fresh temp directory. */
  dir?: string;
  /** Use these ports for {{PORT1}}, {{PORT2}}, ...; default: `portCount` free ports. */
  ports?: number[];
  portCount?: number;
  /** Extra environment for the child (e.g. a LogonPassword=env:NAME secret). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export class GatewayProcess {
  readonly stdoutLines: string[] = [];
  stderr = '';
  exitStatus: ExitStatus | undefined;
  endpoints: Array<{ host: string; port: number }> = [];
  private readonly exitPromise: Promise<ExitStatus>;
  private stdoutRest = '';
  private readonly lineWaiters = new Set<() => void>();

  constructor(
    readonly child: ChildProcess,
    /** The temp directory holding the config, store and logs. */
    readonly dir: string,
    readonly configFile: string,
    readonly ports: number[],
  ) {
    live.add(child);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      const parts = (this.stdoutRest + s).split('\n');
      this.stdoutRest = parts.pop()!;
      this.stdoutLines.push(...parts);
      for (const w of [...this.lineWaiters]) w();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (this.stderr += s));
    this.exitPromise = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.exitStatus = { code, signal };
        for (const w of [...this.lineWaiters]) w();
        resolve(this.exitStatus);
      });
    });
  }

  /** The first configured port. */
  get port(): number {
    return this.ports[0];
  }

  get storeDir(): string {
    return path.join(this.dir, 'store');
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** stdout lines that are JSON (pino), parsed. */
  logs(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const l of this.stdoutLines) {
      try {
        out.push(JSON.parse(l));
      } catch {
        /* not a log line */
      }
    }
    return out;
  }

  /** Waits for a stdout log line matching `pred`; fails if the process exits first or on timeout. */
  waitForLog(pred: (entry: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let seen = 0;
      let t: NodeJS.Timeout | undefined;
      const check = () => {
        for (; seen < this.stdoutLines.length; seen++) {
          let entry: Record<string, unknown>;
          try {
            entry = JSON.parse(this.stdoutLines[seen]);
          } catch {
            continue;
          }
          if (pred(entry)) {
            finish();
            resolve(entry);
            return;
          }
        }
        if (this.exitStatus) {
          finish();
          reject(new Error(`gateway exited (${JSON.stringify(this.exitStatus)}) before the expected log line\n${this.describe()}`));
        }
      };
      const finish = () => {
        clearTimeout(t);
        this.lineWaiters.delete(check);
      };
      this.lineWaiters.add(check);
      t = setTimeout(() => {
        finish();
        reject(new Error(`expected log line not seen within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      check();
    });
  }

  /** Waits for "gateway started" and records its endpoints. */
  async waitReady(timeoutMs = 15_000): Promise<this> {
    const entry = await this.waitForLog((e) => e.msg === 'gateway started', timeoutMs);
    this.endpoints = entry.endpoints as Array<{ host: string; port: number }>;
    return this;
  }

  waitExit(timeoutMs = 10_000): Promise<ExitStatus> {
    let t: NodeJS.Timeout | undefined;
    return Promise.race([
      this.exitPromise.finally(() => clearTimeout(t)),
      new Promise<ExitStatus>((_, reject) => {
        t = setTimeout(() => reject(new Error(`gateway pid ${this.child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  }

  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<ExitStatus> {
    if (this.exitStatus) return this.exitStatus;
    this.child.kill(signal);
    return this.waitExit(timeoutMs);
  }

  /** SIGTERM and wait for the exit (SIGKILL if it takes longer than `timeoutMs`, then fail). */
  async stop(timeoutMs = 10_000): Promise<ExitStatus> {
    if (this.exitStatus) return this.exitStatus;
    this.child.kill('SIGTERM');
    try {
      return await this.waitExit(timeoutMs);
    } catch (e) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
      throw e;
    }
  }

  /** The tail of the child's output, for error messages. */
  describe(): string {
    return `--- stdout (last 20 lines)\n${this.stdoutLines.slice(-20).join('\n')}\n--- stderr\n${this.stderr.slice(-4000)}`;
  }
}

/** Starts the child without waiting for it to be ready (for tests that expect it to fail). */
export async function spawnGateway(opts: GatewayStartOptions): Promise<GatewayProcess> {
  if (!fs.existsSync(GATEWAY_MAIN)) {
    throw new Error(`${GATEWAY_MAIN} is missing: build first (npm run build, or npm test which builds)`);
  }
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gw-e2e-'));
  const ports = opts.ports ?? [];
  // Each probe closes its port, so the kernel may hand the same one out twice: keep them distinct.
  while (ports.length < (opts.portCount ?? 1)) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  let text = opts.config.replace(/\{\{DIR\}\}/g, dir).replace(/\{\{DICTIONARY\}\}/g, DICTIONARY).replace(/\{\{PORT\}\}/g, String(ports[0]));
  text = text.replace(/\{\{PORT(\d+)\}\}/g, (_, n: string) => {
    const p = ports[Number(n) - 1];
    if (p === undefined) throw new Error(`config uses {{PORT${n}}} but only ${ports.length} port(s) were chosen`);
    return String(p);
  });
  const configFile = path.join(dir, 'sessions.cfg');
  fs.writeFileSync(configFile, text);
  const child = spawn(process.execPath, [GATEWAY_MAIN, '--config', configFile], {
    cwd: dir,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new GatewayProcess(child, dir, configFile, ports);
}

/** Starts the gateway and waits for its "gateway started" line. */
export async function startGatewayProcess(opts: GatewayStartOptions): Promise<GatewayProcess> {
  const gw = await spawnGateway(opts);
  try {
    return await gw.waitReady(opts.readyTimeoutMs);
  } catch (e) {
    await gw.kill('SIGKILL').catch(() => undefined);
    if (opts.dir === undefined) removeDir(gw.dir); // ours, and the error carries the output
    throw e;
  }
}

/** SIGKILLs every gateway child still running and waits for them to exit. */
export async function killAllGateways(): Promise<void> {
  const running = [...live];
  await Promise.all(
    running.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
}

/** Removes temp directories made by spawnGateway (call in afterAll once the children are gone). */
export function removeDir(dir: string): void {
  if (dir.startsWith(os.tmpdir())) fs.rmSync(dir, { recursive: true, force: true });
}
