// Fault suite, soak: CHAOS_SOAK_MINUTES (default 3) at CHAOS_SOAK_RATE new orders/s (default 200)
// mixed across the five venues (each within what its published limits allow: Apifiny counts every
// request against 20/s per account and Dzengi 1200 weight/min, so they take a smaller share), with
// cancels keeping each venue's resting orders bounded, status requests and external trades. Every
// CHAOS_SOAK_SAMPLE_S (default 60) it prints the gateway's RSS (with the JS heap in use and Buffer
// memory, from its /metrics), open fds (/proc/<pid>/fd) and store size. It fails when open fds do not
// level off; when RSS grows faster per order, or the store costs more per order, as the run goes on (finished orders are kept 7 days, so both grow with the orders placed: a steady cost
// per order is the design, a rising one a leak); on any error the gateway logs; on any rejected
// order; and on anything the final audit finds lost or duplicated.
import * as fs from 'fs';
import * as path from 'path';
import { ALL_VENUES, ChaosRig, VenueLane, VenueName, audit, recordRows, rowBase, rowFrom, settle, startLoad } from './chaos-rig';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MINUTES = Number(process.env.CHAOS_SOAK_MINUTES ?? 3);
const RATE = Number(process.env.CHAOS_SOAK_RATE ?? 200);
const SAMPLE_S = Number(process.env.CHAOS_SOAK_SAMPLE_S ?? 60);
/** CHAOS_SOAK_VENUES=zerocap,hashkey runs the soak on those venues only (each keeps its share of RATE). */
const VENUES: readonly VenueName[] = process.env.CHAOS_SOAK_VENUES
  ? ALL_VENUES.filter((v) => process.env.CHAOS_SOAK_VENUES!.split(',').includes(v))
  : ALL_VENUES;

/** Each venue's share of the load: the limits it publishes (see the README's venue sections). */
const SHARE: Record<VenueName, number> = { hashkey: 0.3, zerocap: 0.28, coinut: 0.3, apifiny: 0.06, dzengi: 0.06 };
/** Venues whose order budget a session may raise (VenueRateLimitOrders/Queries) and whose simulator follows. */
const RAISED: ReadonlySet<VenueName> = new Set(['hashkey', 'zerocap', 'coinut']);

interface Sample {
  minute: number;
  sent: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  fds: number;
  storeMb: number;
  files: Record<string, number>;
  errors: number;
}

let rig: ChaosRig;

afterAll(async () => {
  await rig?.stop();
});

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

function storeFiles(dir: string, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    const st = fs.statSync(p);
    if (st.isDirectory()) Object.assign(out, storeFiles(p, `${prefix}${f}/`));
    else out[`${prefix}${f.replace(/FIX\.4\.2-GATEWAY-CHAOS/, '')}`] = st.size;
  }
  return out;
}

function gatewayErrors(): number {
  return rig.gw.logs().filter((e) => Number(e.level) >= 50).length;
}

/** Growth in the second half of the samples at most half the first half's, or within `slack`. */
function levelsOff(values: number[], slack: number): boolean {
  if (values.length < 3) return true;
  const mid = Math.floor(values.length / 2);
  const first = values[mid] - values[0];
  const second = values[values.length - 1] - values[mid];
  return second <= Math.max(slack, first * 0.5);
}

/**
 * Growth per order in the second half at most the first half's (+ `slack` per 1,000 orders): finished
 * orders are kept 7 days (ClOrdID uniqueness, status requests), so memory and the order book grow
 * with the orders placed; what must not happen is each order costing more as the run goes on.
 */
function linearAtMost(samples: Sample[], value: (s: Sample) => number, slackPer1000: number): { ok: boolean; first: number; second: number } {
  if (samples.length < 3) return { ok: true, first: 0, second: 0 };
  const mid = Math.floor(samples.length / 2);
  const slope = (a: Sample, b: Sample) => ((value(b) - value(a)) / Math.max(1, b.sent - a.sent)) * 1000;
  const first = slope(samples[0], samples[mid]);
  const second = slope(samples[mid], samples[samples.length - 1]);
  return { ok: second <= Math.max(first, 0) + slackPer1000, first, second };
}

/**
 * A journal is compacted when it holds more than 1.5 records per live one (SharedJournal's policy), so
 * its size swings between its live records and 1.5× them: the slope between two samples says little.
 * What a leak changes is the cost per order overall: the store's size per order placed, in the second
 * half of the run, at most 1.5× the lowest of the first half.
 */
const COMPACTION_RATIO = 1.5;
function storePerOrder(samples: Sample[]): { ok: boolean; first: number; second: number } {
  const perOrder = samples.filter((s) => s.sent > 0).map((s) => (s.storeMb / s.sent) * 1000);
  if (perOrder.length < 2) return { ok: true, first: 0, second: 0 };
  const mid = Math.ceil(perOrder.length / 2);
  const first = Math.min(...perOrder.slice(0, mid));
  const second = Math.max(...perOrder.slice(mid));
  return { ok: second <= first * COMPACTION_RATIO, first, second };
}

test(`soak: ${MINUTES} min at ${RATE} orders/s mixed across five venues; open fds level off, RSS and store steady per order, no errors, nothing lost`, async () => {
  rig = await ChaosRig.start(VENUES, {
    session: (v) => (RAISED.has(v) ? { VenueRateLimitOrders: 200, VenueRateLimitQueries: 200 } : {}),
    simConfig: (v) => ({
      ...(v === 'hashkey' || v === 'zerocap' ? { rateLimits: { ordersPerSecond: 400, queriesPerSecond: 400 } } : {}),
      // Zerocap has no cancel: open orders the venue closes itself after 5 s keep its book bounded.
      ...(v === 'zerocap' ? { restingOrderTtlMs: 5000 } : {}),
    }),
  });
  const bases = await Promise.all(rig.lanes.map((l) => rowBase(l)));
  const samples: Sample[] = [];
  const sample = async (minute: number, sent: number) => {
    const { rssKb, fds } = rig.processStats();
    const { heapUsedMb, externalMb } = await rig.memoryStats();
    const files = storeFiles(rig.gw.storeDir);
    const s: Sample = { minute, sent, rssMb: rssKb / 1024, heapUsedMb, externalMb, fds, storeMb: rig.storeBytes() / 1048576, files, errors: gatewayErrors() };
    samples.push(s);
    const big = Object.entries(files)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([f, n]) => `${f} ${(n / 1048576).toFixed(1)}MB`)
      .join(', ');
    say(`soak t=${minute.toFixed(1)} min: ${sent} orders, RSS ${s.rssMb.toFixed(0)} MB (heap ${heapUsedMb.toFixed(0)}, external ${externalMb.toFixed(0)}), fds ${fds}, store ${s.storeMb.toFixed(1)} MB (${big}), gateway errors ${s.errors}`);
  };
  await sample(0, 0);
  const load = startLoad(rig.lanes, { prefix: 'S', ordersPerSecond: (l: VenueLane) => RATE * SHARE[l.venue], maxResting: 100 });
  const started = Date.now();
  try {
    for (let t = SAMPLE_S; t <= MINUTES * 60 + 0.001; t += SAMPLE_S) {
      await sleep(started + t * 1000 - Date.now());
      await sample(t / 60, load.sent());
    }
  } finally {
    await load.stop();
  }
  const achieved = load.sent() / ((Date.now() - started) / 1000);
  say(`soak: ${load.sent()} orders in ${((Date.now() - started) / 1000).toFixed(0)} s = ${achieved.toFixed(1)} orders/s`);

  const recovered = await settle(rig.lanes, 120_000);
  const rows = [];
  for (const [i, lane] of rig.lanes.entries()) rows.push(rowFrom(`soak ${MINUTES} min @ ${RATE}/s`, lane, await audit(lane), bases[i], recovered.get(lane.venue) ?? null));
  recordRows(rows);
  if (process.env.CHAOS_SOAK_LOG) fs.writeFileSync(process.env.CHAOS_SOAK_LOG, rig.gw.logs().map((e) => JSON.stringify(e)).join('\n'));

  const problems: string[] = [];
  const after = samples.slice(1);
  const rss = linearAtMost(after, (x) => x.rssMb, 1);
  const store = storePerOrder(after);
  say(`soak: RSS ${rss.first.toFixed(2)} then ${rss.second.toFixed(2)} MB per 1,000 orders; store ${store.first.toFixed(2)} MB per 1,000 orders at first, at most ${store.second.toFixed(2)} later`);
  if (!rss.ok) problems.push(`RSS grows faster per order as the run goes on: ${rss.first.toFixed(2)} then ${rss.second.toFixed(2)} MB per 1,000 orders (${after.map((x) => x.rssMb.toFixed(0)).join(' → ')} MB)`);
  if (!store.ok) problems.push(`the store costs more per order as the run goes on: ${store.first.toFixed(2)} then up to ${store.second.toFixed(2)} MB per 1,000 orders (compaction allows ${COMPACTION_RATIO}×)`);
  if (!levelsOff(after.map((x) => x.fds), 100)) problems.push(`open fds keep growing: ${after.map((x) => x.fds).join(' → ')}`);
  if (gatewayErrors() > 0) problems.push(`gateway logged ${gatewayErrors()} error(s): ${JSON.stringify(rig.gw.logs().find((e) => Number(e.level) >= 50))}`);
  for (const r of rows) {
    const rejects = Object.entries(r.rejectTexts ?? {}).filter(([text]) => text.startsWith('150=8'));
    if (rejects.length > 0) problems.push(`${r.venue}: rejected orders ${JSON.stringify(rejects)}`);
  }
  const target = VENUES.reduce((sum, v) => sum + RATE * SHARE[v], 0);
  if (achieved < target * 0.9) problems.push(`the load reached only ${achieved.toFixed(1)} of ${target.toFixed(0)} orders/s`);
  for (const r of rows) expect({ venue: r.venue, lost: r.lost, duplicated: r.duplicated, problems: r.problems.slice(0, 10) }).toEqual({ venue: r.venue, lost: 0, duplicated: 0, problems: [] });
  expect(problems).toEqual([]);
});
