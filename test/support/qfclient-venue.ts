// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against one gateway
// session (TargetCompID QFCLIENT) trading on a venue's in-process simulator: builds the client,
// starts the gateway child, runs a scenario, and checks what every venue's interop test checks —
// every step passed, 0 validation errors, exit 0, and shared/qfclient/fixinvariants.py ok.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayProcess, killAllGateways, removeDir, REPO_ROOT, startGatewayProcess } from './gateway-process';
import { SimControl } from './gateway-e2e';

const SHARED = process.env.SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');

export interface ScenarioResult {
  code: number | null;
  stdout: string;
  stderr: string;
  workdir: string;
}

export class QfclientOnVenue {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs: string[] = [];

  private constructor(
    readonly gw: GatewayProcess,
    /** The simulator's /__sim/ control API. */
    readonly sim: SimControl,
    private readonly qfclient: string,
    private readonly qfclientCfg: string,
  ) {
    this.dirs.push(gw.dir);
  }

  /** Builds qfclient (once; scripts/build-qfclient.sh caches it) and starts a gateway on `venue`'s simulator. */
  static async start(venue: string): Promise<QfclientOnVenue> {
    const build = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-qfclient.sh')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`could not build qfclient:\n${build.stdout}\n${build.stderr}`);
    const home = path.join(REPO_ROOT, '.qfbuild', 'qfclient');
    const config = `
[DEFAULT]
BeginString=FIX.4.2
SocketAcceptHost=127.0.0.1
SocketAcceptPort={{PORT}}
FileStorePath={{DIR}}/store
FileLogPath={{DIR}}/log
DataDictionary={{DICTIONARY}}
ResetOnLogon=N
[SESSION]
SenderCompID=GATEWAY
TargetCompID=QFCLIENT
Application=gateway
Venue=${venue}
VenueEnvironment=simulator
VenueSimulatorPort={{PORT2}}
`;
    const gw = await startGatewayProcess({ config, portCount: 2 });
    await gw.waitForLog((e) => e.msg === 'venue ready', 30_000);
    return new QfclientOnVenue(gw, new SimControl(`http://127.0.0.1:${gw.ports[1]}`), path.join(home, 'qfclient'), path.join(home, 'cfg', 'client.cfg'));
  }

  /** Runs test/scenarios/`file` in a fresh work directory. */
  scenario(file: string, extraArgs: string[] = [], timeoutMs = 120_000): Promise<ScenarioResult> {
    const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'qfc-'));
    this.dirs.push(workdir);
    const args = ['--config', this.qfclientCfg, '--port', String(this.gw.ports[0]), '--workdir', workdir, '--mode', 'scenario', ...extraArgs];
    args.push('--file', path.join(REPO_ROOT, 'test', 'scenarios', file));
    return new Promise((resolve, reject) => {
      const child = spawn(this.qfclient, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`qfclient timed out\n${stdout}\n${stderr}`));
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        this.children.delete(child);
        resolve({ code, stdout, stderr, workdir });
      });
    });
  }

  async stop(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    await killAllGateways();
    for (const d of this.dirs) removeDir(d);
  }
}

/** Every step passed, 0 validation errors, exit 0, and fixinvariants.py found nothing wrong. */
export function expectCleanScenario(r: ScenarioResult): void {
  expect(r.stdout).toMatch(/every incoming message passed QuickFIX FIX42.xml validation \(0 errors\)/);
  expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  expect(r.code).toBe(0);
  const inv = spawnSync('python3', [path.join(SHARED, 'qfclient', 'fixinvariants.py'), r.workdir], { encoding: 'utf8' });
  expect(`${inv.stdout}${inv.stderr}`).toMatch(/invariants ok/);
  expect(inv.status).toBe(0);
}
