// The venue faults of the fault suite, each a phase over a ChaosRig: arm the fault on every lane's
// simulator, run a batch of orders, cancels, status requests and trades through it, clear it,
// settle, audit. Shared by the chaos suite (all of them) and the smoke test in `npm test` (a few).
import { SimFault } from '../support/gateway-e2e';
import { AuditRow, ChaosRig, VenueLane, audit, rowBase, rowFrom, settle } from './chaos-rig';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FaultPhase {
  name: string;
  /** Armed on each lane's simulator before the batch. */
  rules?: SimFault[];
  /** Something to do to each lane during the batch (e.g. drop its streams mid-fill). */
  during?(lane: VenueLane): Promise<void>;
  /** How long the fault stays armed after the batch went out (default 1500 ms). */
  holdMs?: number;
  /** How long settling may take (default 90 s: Zerocap's 60 s proof of absence and then some). */
  settleMs?: number;
  /**
   * Gateway log lines the fault must have caused on these venues (a message starting with the
   * venue's name and matching `msg`), so a row cannot pass without the fault having bitten.
   */
  expectLog?: { msg: RegExp; venues: readonly string[] };
}

/** What every adapter logs when the venue refused its timestamp and it resynchronised. */
const CLOCK_RESYNC = /clock resynchronised/;

export const VENUE_FAULTS: FaultPhase[] = [
  { name: 'create 5xx, not executed', rules: [{ kind: 'error5xxBefore', operation: 'create', count: 3 }] },
  { name: 'create 5xx, executed', rules: [{ kind: 'error5xxAfter', operation: 'create', count: 3 }] },
  { name: 'create timeout, executed', rules: [{ kind: 'timeoutAfter', operation: 'create', count: 2, holdMs: 15_000 }] },
  { name: 'create connection reset, executed', rules: [{ kind: 'dropConnectionAfter', operation: 'create', count: 3 }] },
  // A network failure while an order's outcome is being resolved is never evidence that it is
  // absent: the create executed, its reply was lost, and every query (and open-orders listing)
  // meanwhile fails for longer than the venue's proof-of-absence window.
  {
    name: 'create executed, then queries 5xx past the proof of absence',
    rules: [
      { kind: 'error5xxAfter', operation: 'create', count: 3 },
      { kind: 'error5xxBefore', operation: 'query', count: 60 },
      { kind: 'error5xxBefore', operation: 'openOrders', count: 60 },
    ],
    holdMs: 12_000,
  },
  {
    name: 'create executed, then queries reset past the proof of absence',
    rules: [
      { kind: 'dropConnectionAfter', operation: 'create', count: 3 },
      { kind: 'dropConnectionAfter', operation: 'query', count: 60 },
      { kind: 'dropConnectionAfter', operation: 'openOrders', count: 60 },
    ],
    holdMs: 12_000,
  },
  { name: 'cancel 5xx, executed', rules: [{ kind: 'error5xxAfter', operation: 'cancel', count: 2 }] },
  { name: 'cancel 5xx, not executed', rules: [{ kind: 'error5xxBefore', operation: 'cancel', count: 2 }] },
  { name: 'cancel timeout, executed', rules: [{ kind: 'timeoutAfter', operation: 'cancel', count: 2, holdMs: 15_000 }] },
  { name: 'cancel connection reset, executed', rules: [{ kind: 'dropConnectionAfter', operation: 'cancel', count: 2 }] },
  { name: 'query 5xx', rules: [{ kind: 'error5xxBefore', operation: 'query', count: 6 }] },
  { name: 'query connection reset', rules: [{ kind: 'dropConnectionAfter', operation: 'query', count: 6 }] },
  {
    name: 'open orders 5xx (reconcile after a stream drop)',
    rules: [{ kind: 'error5xxBefore', operation: 'openOrders', count: 4 }],
    during: async (lane) => {
      await lane.sim.control.dropStreams().catch(() => undefined);
    },
  },
  {
    name: 'stream dropped mid-fill',
    during: async (lane) => {
      for (let i = 0; i < 3; i++) {
        await lane.trade();
        await lane.sim.control.dropStreams().catch(() => undefined);
        await sleep(300);
      }
    },
  },
  {
    // A half-open link: no events, no pings, no pongs, no close (the simulator closes it only after
    // 120 s). The gateway must notice the silence itself (a ping unanswered: 10-20 s; Apifiny, whose
    // server pings every 30 s, 65 s), reconnect and reconcile the fills the venue made meanwhile,
    // before the 120 s are up.
    name: 'stream silent without closing',
    rules: [{ kind: 'silenceStreams', ms: 120_000 }],
    during: async (lane) => {
      await sleep(200);
      await lane.trade();
      await lane.trade();
    },
    holdMs: 500,
    settleMs: 100_000,
  },
  { name: 'stream events delayed 3 s', rules: [{ kind: 'delayStreamMs', ms: 3000, count: 6 }], during: (lane) => lane.trade() },
  // The venue's clock 20 s ahead / behind ours: past HashKey's and Dzengi's recvWindow (5 s), which
  // refuse the timestamp (-1021; the adapter resynchronises on the venue's time endpoint and
  // retries once); inside Zerocap's ±30 s, Apifiny's token life (30 s) and Coinut's login window
  // (60 s in the simulator; unconfirmed), which accept it as the venues would. Faults fired says 1
  // for every venue: the skew is a state, not a counted rule.
  { name: 'venue clock skew +20 s', rules: [{ kind: 'clockSkew', ms: 20_000 }], holdMs: 3000, expectLog: { msg: CLOCK_RESYNC, venues: ['hashkey', 'dzengi'] } },
  { name: 'venue clock skew -20 s', rules: [{ kind: 'clockSkew', ms: -20_000 }], holdMs: 3000, expectLog: { msg: CLOCK_RESYNC, venues: ['hashkey', 'dzengi'] } },
  // 90 s: past every venue's window. Zerocap refuses "Request expired" (resync on get_time, retry
  // once), Apifiny "token error" when its clock is ahead (resync on currentTimeMillis, retry once;
  // behind, a token has only exp and is accepted), Coinut refuses the WebSocket login (resync on a
  // REST reply's Date header, log in again). Each lane's streams are dropped once under the skew,
  // so every stream signs its upgrade or login again with the venue's time.
  ...[90_000, -90_000].map(
    (ms): FaultPhase => ({
      name: `venue clock skew ${ms > 0 ? '+' : '-'}${Math.abs(ms) / 1000} s, streams dropped`,
      rules: [{ kind: 'clockSkew', ms }],
      during: async (lane) => {
        await lane.sim.control.dropStreams().catch(() => undefined);
        await sleep(300);
      },
      holdMs: 3000,
      expectLog: { msg: CLOCK_RESYNC, venues: ms > 0 ? ['hashkey', 'dzengi', 'zerocap', 'apifiny', 'coinut'] : ['hashkey', 'dzengi', 'zerocap', 'coinut'] },
    }),
  ),
  { name: '429 storm', rules: [{ kind: 'rateLimit429', operation: 'any', count: 25 }], holdMs: 3000 },
  // A ban pauses the venue for as long as it says (Dzengi's Retry-After: 120 s).
  { name: '418 ban', rules: [{ kind: 'ban418', operation: 'any', count: 2 }], holdMs: 3000, settleMs: 200_000 },
];

/** Runs one phase on every lane at once; one row per lane. */
export async function runFaultPhase(rig: ChaosRig, phase: FaultPhase, opts: { orders?: number; settleMs?: number } = {}): Promise<AuditRow[]> {
  const lanes = rig.lanes;
  const bases = await Promise.all(lanes.map((l) => rowBase(l)));
  const armed = phase.rules?.reduce((n, r) => n + Number(r.count ?? 1), 0) ?? 0;
  const logsBefore = rig.gw.logs().length;
  if (phase.rules) await Promise.all(lanes.map((l) => l.sim.control.armFaults(phase.rules!)));
  const prefix = phase.name.replace(/[^A-Za-z0-9]+/g, '').slice(0, 12);
  const n = opts.orders ?? 6;
  await Promise.all(
    lanes.map(async (lane) => {
      for (let i = 0; i < n; i++) {
        lane.newOrder(prefix);
        if (i % 3 === 2) lane.cancelOne();
        if (i % 2 === 1) lane.statusOne();
      }
      await sleep(300);
      lane.cancelOne();
      lane.statusOne();
      await lane.trade();
      if (phase.during) await phase.during(lane);
      lane.statusOne();
    }),
  );
  await sleep(phase.holdMs ?? 1500);
  const fired = await Promise.all(
    lanes.map(async (l) => {
      const left = (await l.sim.control.pendingFaults()).reduce((k, r) => k + Number(r.count ?? 1), 0);
      await l.sim.control.clearFaults();
      return armed - left;
    }),
  );
  const cleared = Date.now();
  // Let what the trades and statuses started finish, then wait for the venue's truth.
  const recovered = await settle(lanes, opts.settleMs ?? phase.settleMs ?? 90_000, cleared);
  const rows: AuditRow[] = [];
  for (const [i, lane] of lanes.entries()) {
    const row = rowFrom(phase.name, lane, await audit(lane), bases[i], recovered.get(lane.venue) ?? null);
    row.faultsFired = phase.rules ? fired[i] : undefined;
    if (phase.expectLog?.venues.includes(lane.venue)) {
      const msg = phase.expectLog.msg;
      const seen = rig.gw.logs().slice(logsBefore).filter((e) => typeof e.msg === 'string' && e.msg.startsWith(lane.venue) && msg.test(e.msg)).length;
      if (seen === 0) row.problems.push(`expected a gateway log line matching ${msg} for ${lane.venue}, saw none`);
    }
    rows.push(row);
  }
  return rows;
}
