// A status reply (20=3) carries the order's state as the client has been told it: never a state
// whose reports have not been handed to the session yet. The order book takes a change in memory
// at once, but its reports go out only once the change is durable (a book with its own journal
// waits for the fsync; any book waits for a failed write to be retried). A status reply built from
// the book's newest state in that window ran ahead of the live reports that followed it: the
// client saw 39=1 CumQty 0.3, then 150=0 CumQty 0, or CumQty 0.5 then a fill with CumQty 0.3 (the
// HashKey soak finding: reports "out of order" under load, when fsyncs are slow).
import Decimal from 'decimal.js';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { OrderEvent, VenueOrder } from '../../src/venues/venue';
import { FsSpy, spyOnFs } from '../support/fs-spy';
import { Harness, SentMessage, nos, startHarness, statusReq, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);

/** Holds every save's durable (and written) phase until released: a slow fsync, the memory change made at once. */
class SlowDisk {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  wrap = (book: FileOrderBook): FileOrderBook => {
    const real = book.saveStaged.bind(book);
    book.saveStaged = (order, outbox) => {
      const staged = real(order, outbox);
      const gate = this.gate;
      if (gate === undefined) return staged;
      return { ...staged, written: staged.written.then(() => gate), durable: staged.durable.then(() => gate) };
    };
    return book;
  };

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.gate = undefined;
    this.open?.();
  }
}

function fill(o: { clientOrderId: string; venueOrderId: string }, id: string, qty: string, cumQty: string): OrderEvent {
  const t = Date.now();
  return { kind: 'fill', clientOrderId: o.clientOrderId, venueOrderId: o.venueOrderId, rawStatus: 'PARTIALLY_FILLED', time: t, cumQty, source: 'stream', fill: { fillId: id, qty, price: '100', time: t } };
}

/** ExecType/CumQty of each report, status replies marked: "1/0.3", "A/0 (20=3)". */
function shapes(reports: SentMessage[]): string[] {
  return reports.map((r) => `${r.get(150)}/${r.get(14)}${r.get(20) === '3' ? ' (20=3)' : ''}`);
}

/** fixinvariants.py rule 2: per order, CumQty never decreases, status replies included. */
function cumDecreases(reports: SentMessage[]): string[] {
  const out: string[] = [];
  let max = new Decimal(0);
  for (const r of reports) {
    const c = new Decimal(r.get(14) ?? '0');
    if (c.lt(max)) out.push(`CumQty ${max} then ${c}: ${r}`);
    max = Decimal.max(max, c);
  }
  return out;
}

let h: Harness | undefined;
let spy: FsSpy | undefined;
afterEach(async () => {
  spy?.restore();
  spy = undefined;
  jest.restoreAllMocks();
  await h?.close();
  h = undefined;
});

async function start(disk?: SlowDisk): Promise<Harness> {
  // Fresh states, no query for a status request: the reply is built from what the gateway holds.
  const harness = await startHarness({ statusStaleMs: 60_000, wrapBook: disk?.wrap });
  harness.venue.setStreamState('connected');
  await tick(20);
  return harness;
}

test('a status request while the create reply and a fill wait for the disk: the reply shows what was reported (39=A), never CumQty 0.3 before 150=0', async () => {
  const disk = new SlowDisk();
  h = await start(disk);
  const held = h.venue.script('placeOrder', 'hold');
  await h.deliver(nos('R1', { qty: '1' }));
  const call = await held.arrived;
  const req = call.arg as { clientOrderId: string };
  const ids = { clientOrderId: req.clientOrderId, venueOrderId: '777' };
  disk.hold();
  const reply: VenueOrder = { clientOrderId: req.clientOrderId, venueOrderId: '777', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '100', timeInForce: 'GTC', status: 'new', rawStatus: 'NEW', filledQty: '0', updateTime: Date.now(), fills: [] };
  call.resolve(reply);
  await tick(20);
  h.venue.emit(fill(ids, 't1', '0.3', '0.3'));
  await tick(20);
  await h.deliver(statusReq('R1'));
  await h.session.until((s) => s.some((m) => m.get(20) === '3'), 2000, 'the status reply');
  disk.release();
  await h.session.until((s) => s.some((m) => m.get(11) === 'R1' && m.get(150) === '1' && m.get(20) === '0'), 2000, 'the fill');
  const reports = h.session.about('R1').filter((m) => m.msgType === '8');
  expect(cumDecreases(reports)).toEqual([]);
  expect(shapes(reports)).toEqual(['A/0 (20=3)', '0/0', '1/0.3']);
});

test('a status request while two fills wait for the disk: the reply shows the acknowledged order (CumQty 0), not 0.5 before the fill reports 0.3', async () => {
  const disk = new SlowDisk();
  h = await start(disk);
  await h.deliver(nos('R2', { qty: '1' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'R2' && m.get(150) === '0'), 2000, '150=0 for R2');
  const o = h.book.get('R2')!;
  const ids = { clientOrderId: o.venueClientOrderId, venueOrderId: o.venueOrderId! };
  disk.hold();
  h.venue.emit(fill(ids, 't1', '0.3', '0.3'));
  h.venue.emit(fill(ids, 't2', '0.2', '0.5'));
  await tick(20);
  await h.deliver(statusReq('R2'));
  await h.session.until((s) => s.some((m) => m.get(20) === '3'), 2000, 'the status reply');
  disk.release();
  await h.session.until((s) => s.filter((m) => m.get(11) === 'R2' && m.get(150) === '1').length === 2, 2000, 'both fills');
  const reports = h.session.about('R2').filter((m) => m.msgType === '8');
  expect(cumDecreases(reports)).toEqual([]);
  expect(shapes(reports)).toEqual(['0/0', '0/0 (20=3)', '1/0.3', '1/0.5']);
  // Once the reports are out, a status reply shows the book's state again.
  await h.deliver(statusReq('R2'));
  await h.session.until((s) => s.filter((m) => m.get(20) === '3').length === 2, 2000, 'the second status reply');
  expect(shapes(h.session.about('R2').filter((m) => m.msgType === '8')).slice(-1)).toEqual(['1/0.5 (20=3)']);
});

test('a status request while two fills wait to be written again after a failed write: the reply shows what was reported, not the state held back', async () => {
  spy = await spyOnFs();
  h = await start();
  await h.deliver(nos('R3', { qty: '1' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'R3' && m.get(150) === '0'), 2000, '150=0 for R3');
  const o = h.book.get('R3')!;
  const ids = { clientOrderId: o.venueClientOrderId, venueOrderId: o.venueOrderId! };
  // The write of both fills and its immediate retry fail; the next retry comes after the back-off
  // (100 ms, jitter pinned high), so the request lands while the fills are held back.
  jest.spyOn(Math, 'random').mockImplementation(() => 0.999);
  spy.failNext('write', h.book.file, 'ENOSPC', 2);
  h.venue.emit(fill(ids, 't1', '0.25', '0.25'));
  h.venue.emit(fill(ids, 't2', '0.25', '0.5'));
  await tick(30);
  expect(shapes(h.session.about('R3'))).toEqual(['0/0']); // still held back
  await h.deliver(statusReq('R3'));
  await h.session.until((s) => s.filter((m) => m.get(11) === 'R3' && m.get(150) === '1' && m.get(20) === '0').length === 2, 3000, 'both fills');
  const reports = h.session.about('R3').filter((m) => m.msgType === '8');
  expect(cumDecreases(reports)).toEqual([]);
  expect(shapes(reports)).toEqual(['0/0', '0/0 (20=3)', '1/0.25', '1/0.5']);
});

test('a sequence reset while two fills wait for the disk: the restatement (150=D) shows what was reported, and the fills follow it', async () => {
  const disk = new SlowDisk();
  h = await start(disk);
  await h.deliver(nos('R4', { qty: '1' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'R4' && m.get(150) === '0'), 2000, '150=0 for R4');
  const o = h.book.get('R4')!;
  const ids = { clientOrderId: o.venueClientOrderId, venueOrderId: o.venueOrderId! };
  disk.hold();
  h.venue.emit(fill(ids, 't1', '0.3', '0.3'));
  h.venue.emit(fill(ids, 't2', '0.2', '0.5'));
  await tick(20);
  await h.app.onSequenceReset([], h.session);
  disk.release();
  await h.session.until((s) => s.filter((m) => m.get(11) === 'R4' && m.get(150) === '1').length === 2, 2000, 'both fills');
  const reports = h.session.about('R4').filter((m) => m.msgType === '8');
  expect(cumDecreases(reports)).toEqual([]);
  expect(shapes(reports)).toEqual(['0/0', 'D/0', '1/0.3', '1/0.5']);
});
