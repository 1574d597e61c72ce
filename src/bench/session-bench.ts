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
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BenchFlags,
  cpuOf,
  cpuSince,
  findRepoRoot,
  FixLoadClient,
  freePort,
  NodeChild,
  printTable,
  Row,
  rowOf,
  runPaced,
  runWindowed,
  SOH,
  startBenchGateway,
} from './fix-load-client';

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
  const f = new BenchFlags(argv, env, ['count', 'window', 'pingpong', 'rate', 'seconds', 'warmup', 'keep', 'gateway-args']);
  return {
    count: Math.floor(f.num('count', 20_000, 1)),
    window: Math.floor(f.num('window', 0, 0)),
    pingpong: Math.floor(f.num('pingpong', 5_000, 0)),
    rate: f.num('rate', 1_000, 0),
    seconds: f.num('seconds', 5, 0),
    warmup: Math.floor(f.num('warmup', 2_000, 0)),
    keep: f.bool('keep'),
    gatewayArgs: f.list('gateway-args'),
  };
}

const SENDER = 'BENCH';
const TARGET = 'GATEWAY';

// ------------------------------------------------------------------------------------ gateway child

function startGateway(dir: string, root: string, extraNodeArgs: string[]): Promise<{ gw: NodeChild; port: number }> {
  return startBenchGateway({ dir, root, clientCompId: SENDER, nodeArgs: extraNodeArgs, sessionKeys: ['Application=echo'] });
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

  const { gw, port } = await startGateway(dir, root, opts.gatewayArgs);
  const pid = gw.pid;
  let failed = false;
  const rows: Row[] = [];
  const client = new FixLoadClient({
    sender: SENDER,
    target: TARGET,
    orderFields: ['21=1', '38=100', '40=2', '44=10.00', '54=1', '55=AAPL', '59=0'].join(SOH),
    replyType: 'D',
    replyNoun: 'echoes',
    replyName: 'echo',
  });
  const gwCpuOf = (c0: { user: number; sys: number }) => [{ name: 'gw', ...cpuSince(pid, c0) }];
  const cpu0 = process.cpuUsage();
  const gwCpuStart = cpuOf(pid);
  try {
    await client.connect(port);
    const phaseTimeout = (n: number) => 60_000 + n * 10; // generous: 10 ms per order on top of a minute

    if (opts.warmup > 0) {
      const w = client.newPhase('warm-up', 'W', opts.warmup);
      await runWindowed(client, w, 100, phaseTimeout(opts.warmup));
    }

    let c0 = cpuOf(pid);
    const burst = client.newPhase('burst', 'B', opts.count);
    await runWindowed(client, burst, opts.window, phaseTimeout(opts.count));
    rows.push(rowOf(burst, opts.window === 0 ? 'none' : String(opts.window), gwCpuOf(c0)));

    if (opts.pingpong > 0) {
      c0 = cpuOf(pid);
      const pp = client.newPhase('one at a time', 'P', opts.pingpong);
      await runWindowed(client, pp, 1, phaseTimeout(opts.pingpong));
      rows.push(rowOf(pp, '1', gwCpuOf(c0)));
    }

    const pacedCount = Math.round(opts.rate * opts.seconds);
    if (pacedCount > 0) {
      c0 = cpuOf(pid);
      const paced = client.newPhase(`paced ${opts.rate}/s`, 'R', pacedCount);
      const { maxLagMs } = await runPaced(client, paced, opts.rate, phaseTimeout(pacedCount) + opts.seconds * 1000);
      rows.push(rowOf(paced, 'open', gwCpuOf(c0), `client max send lag ${maxLagMs.toFixed(1)} ms`));
    }
    await client.logout();
  } catch (err) {
    failed = true;
    console.error(`benchmark failed: ${(err as Error).message}`);
  }
  const gwCpu = cpuSince(pid, gwCpuStart);
  const code = await gw.stop();
  const own = process.cpuUsage(cpu0);
  const load1 = os.loadavg();

  console.log('');
  printTable(rows, { rateHeader: 'round trips/s', firstReplyHeader: '1st echo ms' });
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
