// The fault suite's short version, inside `npm test`: one venue (HashKey), a kill -9 of the gateway
// under mixed load, then two venue faults (a create the venue executed but answered 5xx; the user
// stream dropped mid-fill), each audited against the simulator's truth exactly as `npm run chaos`
// does (chaos-rig.ts). The full suite: `npm run chaos`.
import { ChaosRig, audit, rowBase, rowFrom, settle, startLoad } from './chaos-rig';
import { VENUE_FAULTS, runFaultPhase } from './venue-fault-phases';

jest.setTimeout(60_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let rig: ChaosRig;

beforeAll(async () => {
  rig = await ChaosRig.start(['hashkey']);
});

afterAll(async () => {
  await rig?.stop();
});

const clean = (r: { venue: string; lost: number; duplicated: number; recoverSeconds: number | null; problems: string[] }) => ({
  venue: r.venue,
  lost: r.lost,
  duplicated: r.duplicated,
  recovered: r.recoverSeconds !== null,
  problems: r.problems.slice(0, 10),
});

test('kill -9 under mixed load (new, cancel, status, fills): after the restart nothing is lost or duplicated and seqnums continue', async () => {
  const lane = rig.lanes[0];
  const base = await rowBase(lane);
  const load = startLoad(rig.lanes, { prefix: 'SMK', ordersPerSecond: 10 });
  await sleep(1500);
  load.paused = true;
  await rig.kill9();
  await lane.trade();
  await rig.startGateway();
  load.paused = false;
  await sleep(1000);
  await load.stop();
  const recovered = await settle(rig.lanes, 20_000);
  const row = rowFrom('kill -9', lane, await audit(lane), base, recovered.get('hashkey') ?? null);
  expect(row.ordersSent).toBeGreaterThan(10);
  expect(clean(row)).toEqual({ venue: 'hashkey', lost: 0, duplicated: 0, recovered: true, problems: [] });
});

test.each(['create 5xx, executed', 'stream dropped mid-fill'])('%s: nothing lost or duplicated', async (name) => {
  const phase = VENUE_FAULTS.find((p) => p.name === name)!;
  const [row] = await runFaultPhase(rig, phase, { settleMs: 20_000 });
  expect(clean(row)).toEqual({ venue: 'hashkey', lost: 0, duplicated: 0, recovered: true, problems: [] });
  if (phase.rules) expect(row.faultsFired).toBeGreaterThan(0);
});
