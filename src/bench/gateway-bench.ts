// Gateway benchmark: NewOrderSingle → first ExecutionReport through the whole gateway, with the
// venue on the other side of real HTTP and WebSocket connections.
//
//   simulator child  node dist/main.js simulate --venue hashkey --port P
//   gateway child    node dist/main.js --config bench.cfg: one gateway session (Venue=hashkey,
//                    VenueEnvironment=simulator, VenueRestUrl/VenueWsUrl pointing at the simulator
//                    child), durable file store and message log on, as shipped; ResetOnLogon=N
//                    (the store is fresh per run; a session that keeps its sequence is one where
//                    the pre-save overlaps the venue call, and that is what is measured)
//   this process     the FIX client (the lean pre-encoded one of fix-load-client.ts)
// The children's output goes to gateway.out and simulator.out next to the store (see --keep).
//
// Orders: limit buys that rest at the venue (BTCUSDT 0.01 @ 50000.00, GTC, HandlInst 1), ClOrdIDs
// unique per run. Latency = from just before the socket write carrying the order to the parse of
// the first ExecutionReport for its ClOrdID; every one must be 150=0 (anything else, and any other
// application message, is an error). Phases after a warm-up, each run first against the venue
// alone (the simulator child driven directly with signed REST creates through the same HashKey REST
// client, venue-load-client.ts), then through the gateway, so the ratios are same-run figures:
//
//   burst          --count orders with at most --window outstanding; orders/s = N / (first send .. last first ER)
//   one at a time  --pingpong orders, window 1
//   paced          open loop at --rate orders/s for --seconds
//
// Inside the gateway (GATEWAY_TRACE, src/common/order-trace.ts; --no-trace turns it off): p50/p99
// per NewOrderSingle of bytes in → validated → venue request → reply → report to session → on the
// wire, and durable writes per order. --trace-gc: the gateway's GC per phase.
// Targets (issue 9): gateway CPU ≤ 75 µs/order in the burst; burst ≥ 80% of the venue alone;
// paced p99 ≤ the venue alone's p99 + 1 ms.
//
//   npm run bench -- [--count 10000] [--window 500] [--pingpong 2000] [--rate 1000] [--seconds 5]
//                    [--warmup 1000] [--keep] [--gateway-args "--cpu-prof"] [--simulator-args "..."]
//                    [--no-trace] [--no-venue-alone] [--trace-gc]
//                    [--latencies FILE]   (CSV: phase,index,sent_ms,latency_us, for looking at the tail)
// Every flag also reads from the environment: BENCH_COUNT, ..., BENCH_GATEWAY_ARGS, BENCH_SIMULATOR_ARGS.
// Exit code 0 only when every order got its ER 150=0 and both children exited cleanly.
// A CPU profile (--gateway-args "--cpu-prof --cpu-prof-dir=DIR"): node dist/bench/cpu-profile-summary.js DIR/*.cpuprofile.
// Allocation sites (--keep --gateway-args "-r ./dist/bench/alloc-sampling.js"): node dist/bench/alloc-sampling.js STORE/alloc-*.heapprofile.
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
import { formatGc, gcSummary } from './gc-summary';
import { breakdownOf, firstWritesOf, readTrace } from './trace-breakdown';
import { VenueLoadClient } from './venue-load-client';

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
  /** Record per-order stage times in the gateway (GATEWAY_TRACE) and print the breakdown. */
  trace: boolean;
  /** Drive the simulator directly too, at every phase, for the same-run comparison. */
  venueAlone: boolean;
  /** Run the gateway with --trace-gc and sum its GC per phase. */
  traceGc: boolean;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const booleans = ['keep', 'no-trace', 'no-venue-alone', 'trace-gc'];
  const f = new BenchFlags(
    argv,
    env,
    ['count', 'window', 'pingpong', 'rate', 'seconds', 'warmup', 'gateway-args', 'simulator-args', 'latencies', ...booleans],
    booleans,
  );
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
    trace: !f.bool('no-trace'),
    venueAlone: !f.bool('no-venue-alone'),
    traceGc: f.bool('trace-gc'),
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

async function startGateway(
  dir: string,
  root: string,
  simPort: number,
  nodeArgs: string[],
  env: Record<string, string> | undefined,
): Promise<{ gw: NodeChild; port: number }> {
  const started = await startBenchGateway({
    dir,
    root,
    clientCompId: SENDER,
    nodeArgs,
    env,
    logFile: path.join(dir, 'gateway.out'),
    resetOnLogon: false,
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
const fmtUs = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : '-');

/** The targets, each with the figure from this run beside it. */
function printTargets(rows: Row[], gwRows: Map<string, Row>, venueRows: Map<string, Row>): void {
  const cpuPerOrder = (r: Row | undefined, name: string) => {
    const c = r?.cpu.find((x) => x.name === name);
    return c && r ? ((c.user + c.sys) * 1000) / r.orders : NaN;
  };
  const lines: string[][] = [['figure', 'this run', 'target', 'met']];
  const burst = gwRows.get('B');
  const vBurst = venueRows.get('B');
  const gwCpu = cpuPerOrder(burst, 'gw');
  lines.push(['gateway CPU per order, burst', `${gwCpu.toFixed(1)} µs`, '≤ 75 µs', gwCpu <= 75 ? 'yes' : 'no']);
  if (burst && vBurst) {
    const ratio = burst.rate / vBurst.rate;
    lines.push([
      'burst through the gateway / venue alone',
      `${fmtUs(burst.rate)} / ${fmtUs(vBurst.rate)} orders/s = ${(ratio * 100).toFixed(0)}%`,
      '≥ 80%',
      ratio >= 0.8 ? 'yes' : 'no',
    ]);
  }
  const paced = gwRows.get('R');
  const vPaced = venueRows.get('R');
  if (paced && vPaced) {
    const limit = vPaced.p99 + 1000;
    lines.push([
      'paced p99 through the gateway vs venue alone + 1 ms',
      `${fmtUs(paced.p99)} µs vs ${fmtUs(vPaced.p99)} + 1,000 µs`,
      `≤ ${fmtUs(limit)} µs`,
      paced.p99 <= limit ? 'yes' : 'no',
    ]);
  }
  const pp = gwRows.get('P');
  const vPp = venueRows.get('P');
  if (pp && vPp) {
    lines.push(['one at a time p50, added by the gateway', `${fmtUs(pp.p50 - vPp.p50)} µs (${fmtUs(pp.p50)} - ${fmtUs(vPp.p50)})`, '(none)', '']);
  }
  void rows;
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}

function printBreakdown(traceFile: string, tags: Array<{ tag: string; name: string }>): void {
  let trace: ReturnType<typeof readTrace>;
  try {
    trace = readTrace(traceFile);
  } catch (err) {
    console.log(`no gateway trace (${(err as Error).message})`);
    return;
  }
  console.log('inside the gateway, per NewOrderSingle (stage trace; µs):');
  const header = ['phase', 'interval', 'holds', 'p50 µs', 'p99 µs', 'orders'];
  const lines: string[][] = [];
  for (let k = 0; k < tags.length; k++) {
    const { tag, name } = tags[k];
    const nextTag = tags.slice(k + 1).map((t) => firstWritesOf(trace, t.tag)).find((w) => w !== undefined);
    const b = breakdownOf(trace, tag, nextTag ?? trace.totalWrites);
    if (!b) continue;
    for (const s of b.segments) lines.push([name, s.name, s.holds, fmtUs(s.p50), fmtUs(s.p99), fmtUs(s.n)]);
    lines.push([
      name,
      'durable writes per order',
      'journal fdatasyncs over the phase / its orders',
      Number.isFinite(b.durableWritesPerOrder) ? b.durableWritesPerOrder.toFixed(2) : '-',
      '',
      '',
    ]);
    const rw = b.replyToWireWrites;
    lines.push([
      name,
      'fdatasyncs reply → ER on wire',
      'completed between an order\'s venue reply and its ER on the wire (p50 / max)',
      Number.isFinite(rw.p50) ? String(rw.p50) : '-',
      Number.isFinite(rw.max) ? `max ${rw.max}` : '',
      fmtUs(rw.n),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
  console.log(
    'durable writes on the critical path of a NewOrderSingle now: ONE of its own, the shared journal write carrying the order state ' +
      'and its ER (report to session → on wire); the pre-save is only written (page cache) before the venue call and its fdatasync ' +
      'overlaps the venue round trip (a venue that refuses a reused client order id, a session that keeps its sequence). One at a ' +
      'time: ~2 fdatasyncs per order. Batches are strictly serial, so when the venue answers faster than an fdatasync the shared ' +
      'write waits for the pre-save\'s flush to finish: then 2 fdatasyncs complete between reply and ER on wire (see the row above).',
  );
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const root = findRepoRoot(__dirname);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
  const traceFile = path.join(dir, 'gateway-trace.csv');
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
  const gwRows = new Map<string, Row>();
  const venueRows = new Map<string, Row>();
  const gcLines: string[] = [];
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
  let venue: VenueLoadClient | undefined;
  let simCpu: CpuTime = { user: NaN, sys: NaN };
  let gwCpu: CpuTime = { user: NaN, sys: NaN };
  let simCode: number | null = null;
  let gwCode: number | null = null;
  try {
    const s = await startSimulator(dir, root, opts.simulatorArgs);
    sim = s.sim;
    const gwNodeArgs = opts.traceGc ? ['--trace-gc', ...opts.gatewayArgs] : opts.gatewayArgs;
    const g = await startGateway(dir, root, s.port, gwNodeArgs, opts.trace ? { GATEWAY_TRACE: traceFile } : undefined);
    gw = g.gw;
    const gwChild = gw;
    const gwPid = gw.pid;
    const simPid = sim.pid;
    const gwStart = cpuOf(gwPid);
    const simStart = cpuOf(simPid);
    const mark = () => ({ gw: cpuOf(gwPid), sim: cpuOf(simPid), client: cpuOf(process.pid), out: gwChild.outputMark() });
    const cpuSinceMark = (m: ReturnType<typeof mark>) => [
      { name: 'gw', ...cpuSince(gwPid, m.gw) },
      { name: 'sim', ...cpuSince(simPid, m.sim) },
      { name: 'client', ...cpuSince(process.pid, m.client) },
    ];
    const gcOf = (name: string, m: ReturnType<typeof mark>) => {
      if (opts.traceGc) gcLines.push(`${name}: ${formatGc(gcSummary(gwChild.outputSince(m.out)))}`);
    };
    if (opts.venueAlone) {
      venue = new VenueLoadClient(
        `http://127.0.0.1:${s.port}`,
        { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '0.01', price: '50000.00', timeInForce: 'GTC' },
        'bench-',
      );
    }
    try {
      await client.connect(g.port);
      const phaseTimeout = (n: number) => 60_000 + n * 10; // generous: 10 ms per order on top of a minute

      if (opts.warmup > 0) {
        const w = client.newPhase('warm-up', 'W', opts.warmup);
        await runWindowed(client, w, 100, phaseTimeout(opts.warmup));
        if (venue) await venue.runWindowed(venue.newPhase('venue warm-up', 'W', opts.warmup), 100, phaseTimeout(opts.warmup));
      }

      let m = mark();
      if (venue) {
        const vb = venue.newPhase('venue alone: burst', 'B', opts.count);
        await venue.runWindowed(vb, opts.window, phaseTimeout(opts.count));
        const r = rowOf(vb, opts.window === 0 ? 'none' : String(opts.window), cpuSinceMark(m));
        rows.push(r);
        venueRows.set('B', r);
      }
      m = mark();
      const burst = client.newPhase('burst', 'B', opts.count);
      measured.push(burst);
      await runWindowed(client, burst, opts.window, phaseTimeout(opts.count));
      gwRows.set('B', rowOf(burst, opts.window === 0 ? 'none' : String(opts.window), cpuSinceMark(m)));
      rows.push(gwRows.get('B')!);
      gcOf('burst', m);

      if (opts.pingpong > 0) {
        if (venue) {
          m = mark();
          const vp = venue.newPhase('venue alone: one at a time', 'P', opts.pingpong);
          await venue.runWindowed(vp, 1, phaseTimeout(opts.pingpong));
          const r = rowOf(vp, '1', cpuSinceMark(m));
          rows.push(r);
          venueRows.set('P', r);
        }
        m = mark();
        const pp = client.newPhase('one at a time', 'P', opts.pingpong);
        measured.push(pp);
        await runWindowed(client, pp, 1, phaseTimeout(opts.pingpong));
        gwRows.set('P', rowOf(pp, '1', cpuSinceMark(m)));
        rows.push(gwRows.get('P')!);
        gcOf('one at a time', m);
      }

      const pacedCount = Math.round(opts.rate * opts.seconds);
      if (pacedCount > 0) {
        const timeout = phaseTimeout(pacedCount) + opts.seconds * 1000;
        if (venue) {
          m = mark();
          const vr = venue.newPhase(`venue alone: paced ${opts.rate}/s`, 'R', pacedCount);
          const { maxLagMs } = await venue.runPaced(vr, opts.rate, timeout);
          const r = rowOf(vr, 'open', cpuSinceMark(m), `client max send lag ${maxLagMs.toFixed(1)} ms`);
          rows.push(r);
          venueRows.set('R', r);
        }
        m = mark();
        const paced = client.newPhase(`paced ${opts.rate}/s`, 'R', pacedCount);
        measured.push(paced);
        const { maxLagMs } = await runPaced(client, paced, opts.rate, timeout);
        gwRows.set('R', rowOf(paced, 'open', cpuSinceMark(m), `client max send lag ${maxLagMs.toFixed(1)} ms`));
        rows.push(gwRows.get('R')!);
        gcOf(`paced ${opts.rate}/s`, m);
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
  venue?.close();
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
  console.log(`bench client: CPU ${((own.user + own.system) / 1000).toFixed(0)} ms (the FIX client, and the venue-alone REST client)`);
  console.log(`load average after: ${load1.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    'latency: through the gateway, from just before the socket write carrying the order to the parse of its first ExecutionReport; ' +
      'venue alone, from the signed REST create to its parsed reply. orders/s = answered orders / (first send .. last reply).',
  );
  if (opts.trace && gw) {
    console.log('');
    printBreakdown(traceFile, [
      { tag: 'B', name: 'burst' },
      { tag: 'P', name: 'one at a time' },
      { tag: 'R', name: `paced ${opts.rate}/s` },
    ]);
  }
  if (gcLines.length > 0) {
    console.log('');
    console.log('gateway GC (--trace-gc) per phase:');
    for (const l of gcLines) console.log(`  ${l}`);
  }
  console.log('');
  printTargets(rows, gwRows, venueRows);
  if (client.problemCount > 0) {
    failed = true;
    console.error(
      `errors: ${client.problemCount} (${client.badReplies} ExecutionReports other than 150=0); the first ${Math.min(20, client.problems.length)}:\n  ` +
        client.problems.slice(0, 20).join('\n  '),
    );
  }
  if (venue && venue.problemCount > 0) {
    failed = true;
    console.error(`venue-alone errors: ${venue.problemCount}; the first ${venue.problems.length}:\n  ` + venue.problems.join('\n  '));
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
