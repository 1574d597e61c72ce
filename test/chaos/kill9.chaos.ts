// Fault suite, process: kill -9 of the gateway at random moments under a mixed load (new, cancel,
// status; resting and filling orders, external trades) on all five venues at once, three times in
// a row, restarting on the same store each time; then the load stops, everything settles, and
// every venue's truth is audited (chaos-rig.ts: nothing lost, nothing duplicated, seqnums continue).
import { ALL_VENUES, ChaosRig, audit, recordRows, rowBase, rowFrom, settle, startLoad } from './chaos-rig';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ORDERS_PER_SECOND = Number(process.env.CHAOS_KILL_RATE ?? 8);

let rig: ChaosRig;

afterAll(async () => {
  await rig?.stop();
});

test('kill -9 three times under mixed load on all five venues: nothing lost, nothing duplicated', async () => {
  rig = await ChaosRig.start(ALL_VENUES);
  const bases = await Promise.all(rig.lanes.map((l) => rowBase(l)));
  const load = startLoad(rig.lanes, { prefix: 'K9', ordersPerSecond: ORDERS_PER_SECOND });
  let lastRestart = Date.now();
  try {
    for (let round = 0; round < 3; round++) {
      await sleep(1500 + Math.random() * 3000);
      load.paused = true;
      await rig.kill9();
      // While it is down the venues keep trading against the resting orders.
      for (const l of rig.lanes) await l.trade();
      await sleep(200 + Math.random() * 800);
      await rig.startGateway();
      lastRestart = Date.now();
      load.paused = false;
    }
    await sleep(2000);
  } finally {
    await load.stop();
  }
  const recovered = await settle(rig.lanes, 60_000, lastRestart);
  const rows = [];
  for (const [i, lane] of rig.lanes.entries()) rows.push(rowFrom('kill -9 ×3 under load', lane, await audit(lane), bases[i], recovered.get(lane.venue) ?? null));
  recordRows(rows);
  for (const r of rows) expect({ venue: r.venue, lost: r.lost, duplicated: r.duplicated, problems: r.problems.slice(0, 10) }).toEqual({ venue: r.venue, lost: 0, duplicated: 0, problems: [] });
});
