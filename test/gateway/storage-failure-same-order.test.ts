// Two changes of one order in flight when the order book's write fails (a full disk): they fail
// together (one group commit, or the second queued behind the first), and must be retried as one
// pending change of that order. Errors are injected at the journal's FileHandle.write
// (test/support/fs-spy.ts), so the book's own rollback runs, as with a real ENOSPC.
import { FsSpy, spyOnFs } from '../support/fs-spy';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);

let h: Harness | undefined;
let spy: FsSpy | undefined;
afterEach(async () => {
  spy?.restore();
  spy = undefined;
  jest.restoreAllMocks();
  await h?.close();
  h = undefined;
});

test('two fills of one order failing in one write: reported once each, in order, and the book keeps the later state', async () => {
  spy = await spyOnFs();
  h = await startHarness();
  await h.deliver(nos('S1', { qty: '1' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'S1' && m.get(150) === '0'), 2000, '150=0 for S1');
  const o = h.book.get('S1')!;
  // Retry delays: the first change's back-off is the longer one (retries otherwise race by jitter).
  const draws = [0.999];
  jest.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0);
  // The disk is full for the first write (both fills) and the first retry.
  spy.failNext('write', h.book.file, 'ENOSPC', 2);
  const t = Date.now();
  const fill = (id: string, qty: string, cum: string) =>
    h!.venue.emit({ kind: 'fill', clientOrderId: o.venueClientOrderId, venueOrderId: o.venueOrderId!, rawStatus: 'PARTIALLY_FILLED', time: t, source: 'stream', cumQty: cum, fill: { fillId: id, qty, price: '100', time: t } });
  fill('t1', '0.25', '0.25');
  fill('t2', '0.25', '0.5');
  await h.session.until((s) => s.filter((m) => m.get(11) === 'S1' && m.get(150) === '1').length === 2, 3000, 'both fills');
  await tick(400); // every retry loop has run
  expect(h.session.about('S1').map((m) => `${m.get(150)}:${m.get(32) ?? ''}:${m.get(14)}`)).toEqual(['0::0', '1:0.25:0.25', '1:0.25:0.5']);
  expect(h.book.get('S1')!.cumQty).toBe('0.5');
  expect([...h.book.get('S1')!.fillIds]).toEqual(['t1', 't2']);
});
