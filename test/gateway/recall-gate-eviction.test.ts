// Messages wait their turn behind an earlier one that brings an evicted order back into memory.
// Whether a message needs a recall must be decided when its turn comes, not when it arrived: an
// order in memory on arrival may leave memory (its grace period over) while the message waits, and
// was then unknown to its handler: an OrderStatusRequest about a filled or canceled order got
// "Unknown order" (20=3 150=8 39=8 CumQty 0) after its fills (the five-venue soak: orders ending
// 39=8 at CumQty 0 that the venue had filled, on every venue), and a venue event was kept as one
// for an order not known yet. The gate now pins what a waiting message names, so the order stays in
// memory through the sweep (recall-gate-pin.test.ts for the unit-level interleavings).
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { Harness, cancelReq, nos, startHarness, statusReq, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);

const GRACE_MS = 1_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/**
 * B1 canceled and evicted, A1 canceled and still in memory; D1 open (its fills make the book save,
 * which sweeps). `holdRecalls()` makes recalls wait until released; `pass(ms)` moves the book's clock.
 */
async function setUp() {
  let clock = 1_000_000;
  let hold: Promise<void> | undefined;
  let release: () => void = () => undefined;
  h = await startHarness({
    statusStaleMs: 60_000,
    wrapBook: (b) => {
      const book = new FileOrderBook(b.dir, b.sessionKey, { evictAfterMs: GRACE_MS, now: () => clock });
      // A slow journal read: the recall of an evicted order takes until released.
      const recall = book.recall.bind(book);
      book.recall = (ids) => {
        const p = recall(ids);
        const gate = hold;
        return p === undefined || gate === undefined ? p : p.then(() => gate);
      };
      return book;
    },
  });
  h.venue.setStreamState('connected');
  await tick(20);
  const canceled = async (cl: string) => {
    await h!.deliver(nos(cl));
    await h!.session.until((s) => s.some((m) => m.get(11) === cl && m.get(150) === '0'), 2000, `150=0 for ${cl}`);
    await h!.deliver(cancelReq(`${cl}-X`, cl));
    await h!.session.until((s) => s.some((m) => m.get(11) === `${cl}-X` && m.get(150) === '4'), 2000, `150=4 for ${cl}`);
  };
  await h.deliver(nos('D1', { qty: '10' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'D1' && m.get(150) === '0'), 2000, '150=0 for D1');
  const d1 = h.book.get('D1')!;
  let fills = 0;
  // A save of another order: the book sweeps out the terminal orders whose grace is over.
  const sweep = async () => {
    fills++;
    const t = Date.now();
    h!.venue.emit({ kind: 'fill', clientOrderId: d1.venueClientOrderId, venueOrderId: d1.venueOrderId!, rawStatus: 'PARTIALLY_FILLED', time: t, source: 'stream', fill: { fillId: `d${fills}`, qty: '0.1', price: '100', time: t } });
    await h!.session.until((s) => s.filter((m) => m.get(11) === 'D1' && m.get(150) === '1').length === fills, 2000, `fill ${fills} of D1`);
    await tick(20);
  };

  await canceled('B1');
  const b1VenueOrderId = h.book.get('B1')!.venueOrderId!;
  clock += 600;
  await canceled('A1');
  const a1 = h.book.get('A1')!;
  clock += 500; // B1's grace is over, A1's is not
  await sweep();
  expect(h.book.get('B1')).toBeUndefined();
  expect(h.book.get('A1')).toBeDefined();
  return {
    a1,
    b1VenueOrderId,
    sweep,
    // The same through the FIX intake (a new order's save), for when venue events wait.
    sweepByOrder: async () => {
      fills++;
      await h!.deliver(nos(`C${fills}`));
      await h!.session.until((s) => s.some((m) => m.get(11) === `C${fills}` && m.get(150) === '0'), 2000, `150=0 for C${fills}`);
      await tick(20);
    },
    pass: (ms: number) => (clock += ms),
    holdRecalls: () => (hold = new Promise((r) => (release = r))),
    releaseRecalls: () => {
      hold = undefined;
      release();
    },
  };
}

test('a status request that arrived while its order was in memory, waiting behind a recall past the order’s grace period: answered with the order, not "unknown order"', async () => {
  const { a1, sweep, pass, holdRecalls, releaseRecalls } = await setUp();
  h = h!;
  holdRecalls();
  const from = h.session.sent.length;
  const b1Status = h.deliver(statusReq('B1')); // recalls B1 (held)
  const a1Status = h.deliver(statusReq('A1')); // A1 in memory now: waits behind B1's recall
  pass(1_000); // A1's grace is over too
  await sweep();
  // Its message waits: the gate pinned it, the sweep passed it over (before the pin it left memory here).
  expect(h.book.byVenueClientOrderId(a1.venueClientOrderId)).toBeDefined();
  releaseRecalls();
  await Promise.all([b1Status, a1Status]);
  await h.session.until((s) => s.slice(from).filter((m) => m.get(20) === '3').length === 2, 2000, 'both status replies');
  const replies = h.session.sent.slice(from).filter((m) => m.get(20) === '3');
  expect(replies.map((m) => `${m.get(11)} 39=${m.get(39)} 37=${m.get(37)}`)).toEqual([`B1 39=4 37=${h.book.get('B1')!.venueOrderId}`, `A1 39=4 37=${a1.venueOrderId}`]);
});

test('a venue event that arrived while its order was in memory, waiting behind another event\'s recall past the order’s grace period: applied to the order, not kept as one for an unknown order', async () => {
  const { a1, b1VenueOrderId, sweepByOrder, pass, holdRecalls, releaseRecalls } = await setUp();
  h = h!;
  holdRecalls();
  const t = Date.now();
  const from = h.session.sent.length;
  // The venue replays B1's cancel (recalled: held), then reports a fill of A1 it made before A1's cancel.
  h.venue.emit({ kind: 'canceled', clientOrderId: 'x', venueOrderId: b1VenueOrderId, rawStatus: 'CANCELED', time: t, source: 'stream' });
  h.venue.emit({ kind: 'fill', clientOrderId: a1.venueClientOrderId, venueOrderId: a1.venueOrderId!, rawStatus: 'PARTIALLY_CANCELED', time: t, cumQty: '0.5', source: 'stream', fill: { fillId: 'a1-late', qty: '0.5', price: '100', time: t } });
  pass(1_000); // A1's grace is over
  await sweepByOrder();
  // Its message waits: the gate pinned it, the sweep passed it over (before the pin it left memory here).
  expect(h.book.byVenueClientOrderId(a1.venueClientOrderId)).toBeDefined();
  releaseRecalls();
  await h.session.until((s) => s.slice(from).some((m) => m.get(11) === 'A1'), 2000, 'the late fill of A1');
  const reports = h.session.sent.slice(from).filter((m) => m.get(11) === 'A1');
  expect(reports.map((m) => `${m.get(150)}/${m.get(39)}/${m.get(14)}`)).toEqual(['1/4/0.5']);
});
