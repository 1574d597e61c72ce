// Fault suite, every venue down at start-up: the gateway starts with no simulator listening; every
// session still logs on; an order then gets a clear reject (150=8 with a Text naming why) after the
// short wait the gateway allows a starting venue, never silence. Then the venues come up on their
// ports, the gateway finds them by itself, and a batch of orders, cancels, statuses and trades
// runs and is audited against each venue's truth.
import { ALL_VENUES, ChaosRig, audit, recordRows, rowBase, rowFrom, settle } from './chaos-rig';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let rig: ChaosRig;

afterAll(async () => {
  await rig?.stop();
});

test('venue down at start-up: sessions log on, orders get a clear reject, then trading resumes by itself; nothing lost, nothing duplicated', async () => {
  rig = await ChaosRig.start(ALL_VENUES, { venuesDown: true });
  // No simulator to ask yet: every count starts at nothing.
  const bases = rig.lanes.map((l) => ({ received: l.client.received.length, sent: 0, ers: 0, venueOrders: 0 }));
  const early = rig.lanes.map((l) => [l.newOrder('DOWN'), l.newOrder('DOWN')]);
  await sleep(8000);
  for (const [i, lane] of rig.lanes.entries()) {
    for (const cl of early[i]) {
      const reports = lane.client.received.filter((m) => m.msgType === '8' && m.get(11) === cl);
      expect({ venue: lane.venue, cl, answer: reports.map((m) => [m.get(150), m.get(39)]), text: reports[0]?.get(58) ?? '' }).toEqual({
        venue: lane.venue,
        cl,
        answer: [['8', '8']],
        text: expect.stringMatching(/venue/i),
      });
    }
  }
  const down = Date.now();
  await rig.startVenues();
  const readyAfter = (Date.now() - down) / 1000;
  for (const lane of rig.lanes) {
    for (let i = 0; i < 6; i++) {
      lane.newOrder('UP');
      if (i % 3 === 2) lane.cancelOne();
      if (i % 2 === 1) lane.statusOne();
    }
    await lane.trade();
  }
  const recovered = await settle(rig.lanes, 90_000, down);
  const rows = [];
  for (const [i, lane] of rig.lanes.entries()) {
    const row = rowFrom('venue down at start-up', lane, await audit(lane), bases[i], recovered.get(lane.venue) ?? null);
    rows.push(row);
  }
  recordRows(rows);
  process.stderr.write(`venues up ${readyAfter.toFixed(1)} s after the simulators started\n`);
  for (const r of rows) expect({ venue: r.venue, lost: r.lost, duplicated: r.duplicated, problems: r.problems.slice(0, 10) }).toEqual({ venue: r.venue, lost: 0, duplicated: 0, problems: [] });
});
