// Fault suite, venues: each fault armed on every venue's simulator at once, per operation (create,
// cancel, query, open orders, stream), under a batch of new orders (resting and filling), cancels,
// status requests and external trades; then the fault is cleared, everything settles, and every
// venue's truth is audited (chaos-rig.ts: nothing lost, nothing duplicated, seqnums continue).
// CHAOS_FAULTS (a substring of a fault's name) runs a subset.
import { ALL_VENUES, ChaosRig, recordRows } from './chaos-rig';
import { VENUE_FAULTS, runFaultPhase } from './venue-fault-phases';

let rig: ChaosRig;

beforeAll(async () => {
  rig = await ChaosRig.start(ALL_VENUES);
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

const only = process.env.CHAOS_FAULTS;
const phases = VENUE_FAULTS.filter((p) => only === undefined || p.name.includes(only));

test.each(phases.map((p) => [p.name, p]))('%s: nothing lost, nothing duplicated on any venue', async (_name, phase) => {
  const rows = await runFaultPhase(rig, phase);
  recordRows(rows);
  for (const r of rows) expect({ venue: r.venue, lost: r.lost, duplicated: r.duplicated, recovered: r.recoverSeconds !== null, problems: r.problems.slice(0, 10) }).toEqual({ venue: r.venue, lost: 0, duplicated: 0, recovered: true, problems: [] });
});

