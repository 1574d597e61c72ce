// Gateway benchmark: NewOrderSingle → first ExecutionReport through the whole gateway, with the
// venue on the other side of real HTTP and WebSocket connections.
//
//   simulator child  node dist/main.js simulate --venue hashkey --port P
//   gateway child    node dist/main.js --config bench.cfg: one gateway session (Venue=hashkey,
//                    VenueEnvironment=simulator, VenueRestUrl/VenueWsUrl pointing at the simulator
//                    child), durable file store and message log on, as shipped; ResetOnLogon=Y
//   this process     the FIX client (the lean pre-encoded one of fix-load-client.ts)
// The children's output goes to gateway.out and simulator.out next to the store (see --keep).
//
// Orders: limit buys that rest at the venue (BTCUSDT 0.01 @ 50000.00, GTC, HandlInst 1), ClOrdIDs
// unique per run. Latency = from just before the socket write carrying the order to the parse of
// the first ExecutionReport for its ClOrdID; every one must be 150=0 (anything else, and any other
// application message, is an error). Phases after a warm-up:
//
//   burst          --count orders with at most --window outstanding; orders/s = N / (first send .. last first ER)
//   one at a time  --pingpong orders, window 1
//   paced          open loop at --rate orders/s for --seconds
//
// Targets: ≥ 5,000 orders/s in the burst, p99 ≤ 2 ms at 1,000/s.
//
//   npm run bench -- [--count 10000] [--window 500] [--pingpong 2000] [--rate 1000] [--seconds 5]
//                    [--warmup 1000] [--keep] [--gateway-args "--cpu-prof"] [--simulator-args "..."]
//                    [--latencies FILE]   (CSV: phase,index,sent_ms,latency_us, for looking at the tail)
// Every flag also reads from the environment: BENCH_COUNT, ..., BENCH_GATEWAY_ARGS, BENCH_SIMULATOR_ARGS.
// Exit code 0 only when every order got its ER 150=0 and both children exited cleanly.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BenchFlags,
  cpuOf,
  cpuSince,
  CpuTime,
  fieldOf,
  findRepoRoot,
  FixLoadClient,
  freePort,
  NodeChild,
  Phase,
  printable,
  printTable,
  Row,
  rowOf,
  runPaced,
  runWindowed,
  SOH,
  startBenchGateway,
} from './fix-load-client';

interface Options {
  count: number;
  window: number;
  pingpong: number;
  rate: number;
  seconds: number;
  warmup: number;
  keep: boolean;
  gatewayArgs: string[];
  simulatorArgs: string[];
  latencies: string | undefined;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const f = new BenchFlags(argv, env, [
    'count', 'window', 'pingpong', 'rate', 'seconds', 'warmup', 'keep', 'gateway-args', 'simulator-args', 'latencies',
  ]);
  return {
    count: Math.floor(f.num('count', 10_000, 1)),
    window: Math.floor(f.num('window', 500, 0)),
    pingpong: Math.floor(f.num('pingpong', 2_000, 0)),
    rate: f.num('rate', 1_000, 0),
    seconds: f.num('seconds', 5, 0),
    warmup: Math.floor(f.num('warmup', 1_000, 0)),
    keep: f.bool('keep'),
    gatewayArgs: f.list('gateway-args'),
    simulatorArgs: f.list('simulator-args'),
    latencies: f.get('latencies') || undefined,
  };
}

const SENDER = 'BENCH';
const TARGET = 'GATEWAY';
/** A BTCUSDT buy well below the simulator's reference price (60000): it rests. */
const ORDER_FIELDS = ['21=1', '38=0.01', '40=2', '44=50000.00', '54=1', '55=BTCUSDT', '59=1'].join(SOH);

/** Every first reply must be an ExecutionReport 150=0 (39=0). */
function checkExecutionReport(buf: Buffer, bodyStart: number, end: number): string | undefined {
  const execType = fieldOf(buf, bodyStart, end, '150');
  if (execType === '0') return undefined;
  return `ExecutionReport with 150=${execType ?? '(none)'}, expected 150=0: ${printable(buf, bodyStart, end)}`;
}

async function startSimulator(dir: string, root: string, nodeArgs: string[]): Promise<{ sim: NodeChild; port: number }> {
  const port = await freePort();
  const sim = await NodeChild.start('simulator', {
    nodeArgs,
    script: path.join(root, 'dist', 'main.js'),
    args: ['simulate', '--venue', 'hashkey', '--port', String(port)],
    cwd: dir,
    ready: '"simulator started"',
    logFile: path.join(dir, 'simulator.out'),
  });
  return { sim, port };
}

async function startGateway(dir: string, root: string, simPort: number, nodeArgs: string[]): Promise<{ gw: NodeChild; port: number }> {
  const started = await startBenchGateway({
    dir,
    root,
    clientCompId: SENDER,
    nodeArgs,
    logFile: path.join(dir, 'gateway.out'),
    sessionKeys: [
      'Application=gateway',
      'Venue=hashkey',
      'VenueEnvironment=simulator',
      `VenueRestUrl=http://127.0.0.1:${simPort}`,
      `VenueWsUrl=ws://127.0.0.1:${simPort}/api/v1/ws`,
    ],
  });
  // Orders sent before the adapter has its instrument list wait for it: measure after.
  await started.gw.waitFor('"venue ready"', 30_000);
  return started;
}

/** One line per answered order: phase, index, send time (ms since the phase's first send), latency µs. */
function writeLatencies(file: string, phases: Phase[]): void {
  const lines = ['phase,index,sent_ms,latency_us'];
  for (const p of phases) {
    for (let i = 0; i < p.sent; i++) {
      if (p.latency[i] === 0) continue;
      lines.push(`${p.name},${i},${(p.sentAt[i] - p.firstSend).toFixed(3)},${(p.latency[i] * 1000).toFixed(0)}`);
    }
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

const fmtCpu = (c: CpuTime) => `${c.user.toFixed(0)} ms user + ${c.sys.toFixed(0)} ms system`;

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const root = findRepoRoot(__dirname);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
  const load0 = os.loadavg();
  console.log(
    'gateway benchmark: NewOrderSingle → first ExecutionReport; gateway child (durable file store, message log on) → ' +
      `HashKey simulator child over HTTP + WebSocket; store and logs in ${dir}`,
  );
  console.log(
    `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, ` +
      `load average ${load0.map((x) => x.toFixed(2)).join(' ')}`,
  );

  let failed = false;
  const rows: Row[] = [];
  const measured: Phase[] = [];
  const client = new FixLoadClient({
    sender: SENDER,
    target: TARGET,
    orderFields: ORDER_FIELDS,
    replyType: '8',
    replyNoun: 'first ExecutionReports',
    replyName: 'ExecutionReport',
    checkReply: checkExecutionReport,
  });
  const cpu0 = process.cpuUsage();
  let sim: NodeChild | undefined;
  let gw: NodeChild | undefined;
  let simCpu: CpuTime = { user: NaN, sys: NaN };
  let gwCpu: CpuTime = { user: NaN, sys: NaN };
  let simCode: number | null = null;
  let gwCode: number | null = null;
  try {
    const s = await startSimulator(dir, root, opts.simulatorArgs);
    sim = s.sim;
    const g = await startGateway(dir, root, s.port, opts.gatewayArgs);
    gw = g.gw;
    const gwPid = gw.pid;
    const simPid = sim.pid;
    const gwStart = cpuOf(gwPid);
    const simStart = cpuOf(simPid);
    const mark = () => ({ gw: cpuOf(gwPid), sim: cpuOf(simPid) });
    const cpuSinceMark = (m: { gw: CpuTime; sim: CpuTime }) => [
      { name: 'gw', ...cpuSince(gwPid, m.gw) },
      { name: 'sim', ...cpuSince(simPid, m.sim) },
    ];
    try {
      await client.connect(g.port);
      const phaseTimeout = (n: number) => 60_000 + n * 10; // generous: 10 ms per order on top of a minute

      if (opts.warmup > 0) {
        const w = client.newPhase('warm-up', 'W', opts.warmup);
        await runWindowed(client, w, 100, phaseTimeout(opts.warmup));
      }

      let m = mark();
      const burst = client.newPhase('burst', 'B', opts.count);
      measured.push(burst);
      await runWindowed(client, burst, opts.window, phaseTimeout(opts.count));
      rows.push(rowOf(burst, opts.window === 0 ? 'none' : String(opts.window), cpuSinceMark(m)));

      if (opts.pingpong > 0) {
        m = mark();
        const pp = client.newPhase('one at a time', 'P', opts.pingpong);
        measured.push(pp);
        await runWindowed(client, pp, 1, phaseTimeout(opts.pingpong));
        rows.push(rowOf(pp, '1', cpuSinceMark(m)));
      }

      const pacedCount = Math.round(opts.rate * opts.seconds);
      if (pacedCount > 0) {
        m = mark();
        const paced = client.newPhase(`paced ${opts.rate}/s`, 'R', pacedCount);
        measured.push(paced);
        const { maxLagMs } = await runPaced(client, paced, opts.rate, phaseTimeout(pacedCount) + opts.seconds * 1000);
        rows.push(rowOf(paced, 'open', cpuSinceMark(m), `client max send lag ${maxLagMs.toFixed(1)} ms`));
      }
      // Late or duplicate reports (e.g. a second ER for an order) would show up as problems.
      await new Promise((r) => setTimeout(r, 200));
      await client.logout();
    } finally {
      gwCpu = cpuSince(gwPid, gwStart);
      simCpu = cpuSince(simPid, simStart);
    }
  } catch (err) {
    failed = true;
    console.error(`benchmark failed: ${(err as Error).message}`);
  }
  if (gw) gwCode = await gw.stop();
  if (sim) simCode = await sim.stop();
  const own = process.cpuUsage(cpu0);
  const load1 = os.loadavg();

  console.log('');
  if (rows.length > 0) printTable(rows, { rateHeader: 'orders/s', firstReplyHeader: '1st ER ms' });
  console.log('');
  if (gw) {
    console.log(`gateway child: pid ${gw.pid}, CPU ${fmtCpu(gwCpu)} from logon to logout (incl. warm-up), exit code ${gwCode}`);
  }
  if (sim) console.log(`simulator child: pid ${sim.pid}, CPU ${fmtCpu(simCpu)} over the same span, exit code ${simCode}`);
  console.log(`bench client: CPU ${((own.user + own.system) / 1000).toFixed(0)} ms`);
  console.log(`load average after: ${load1.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    'latency: from just before the socket write carrying the order to the parse of its first ExecutionReport; ' +
      'orders/s = answered orders / (first send .. last first ER). Targets: burst ≥ 5,000 orders/s, p99 ≤ 2,000 µs at 1,000/s',
  );
  if (client.problemCount > 0) {
    failed = true;
    console.error(
      `errors: ${client.problemCount} (${client.badReplies} ExecutionReports other than 150=0); the first ${Math.min(20, client.problems.length)}:\n  ` +
        client.problems.slice(0, 20).join('\n  '),
    );
  }
  for (const [c, code] of [
    [gw, gwCode],
    [sim, simCode],
  ] as const) {
    if (c && code !== 0) {
      failed = true;
      console.error(`${c.name} exited with ${code}; its output:\n${c.output().slice(-4000)}`);
    }
  }
  if (opts.latencies) {
    writeLatencies(opts.latencies, measured);
    console.log(`latencies written to ${opts.latencies}`);
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
