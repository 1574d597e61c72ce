// Memory of the order path (issue 9, item 5), in-process: one FIX session's shared journal with its
// two owners as the gateway wires them (FileSessionStore + FileOrderBook on sessionJournalFor), driven
// directly: per order the inbound NewOrderSingle's target seqnum, the order's saves with their
// ExecutionReports in the outbox, each report stored in the session store (its wire text) and
// confirmed. No TCP, no venue: memory, not latency, is measured.
//   1. memory per 100,000 live (open, resting) orders;                              target <= 200 MB
//   2. RSS over 1,000,000 orders through one session (new, acked, filled; terminal orders leave
//      memory after the grace period; the journal compacts while running), every 100,000;  target: flat
//
//   npm run bench:memory [-- --orders 1000000 --live 100000 --burst 1000 --fsync --reopen]
// fsync is off unless --fsync is given (the output says which): durability is measured elsewhere
// (npm run bench), and with fdatasync per batch 1,000,000 orders take most of an hour on this VM.
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import { SharedJournal } from '../durable/shared-journal';
import { FileSessionStore, sessionJournalFor } from '../fix/store/file-session-store';
import { FileOrderBook } from '../gateway/file-order-book';
import { FillIds, GatewayOrder, createOrder } from '../gateway/order';

const MB = 1024 * 1024;
const TARGET_PER_100K_MB = 200;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const fsync = process.argv.includes('--fsync');
/** Orders saved in one tick (one group-committed write) in the live-orders phase. */
const BURST = arg('burst', 1000);

const forceGc = (global as { gc?: () => void }).gc;

interface Mem {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

function mem(gc: boolean): Mem {
  if (gc) forceGc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

const fmt = (b: number) => (b / MB).toFixed(1);

function newOrder(n: number, now: number): GatewayOrder {
  return {
    ...createOrder(
      { clOrdId: `CL-${n}`, venueClientOrderId: `GW-${1_700_000_000_000 + n}`, symbol: 'BTCUSDT', side: n % 2 ? '1' : '2', ordType: '2', timeInForce: '1', orderQty: '0.015', price: `${60000 + (n % 500)}.5` },
      now,
    ),
    account: 'ACC-1',
  };
}

const report = (execId: string) => ({ msgType: '8', body: [{ tag: 17, value: execId }] });

/** An ExecutionReport's wire text as the session stores it (about 260 bytes, like the gateway's). */
function erText(seq: number, o: GatewayOrder, execId: string, ordStatus: string): string {
  const body =
    `35=8\x0149=GATEWAY\x0156=QFCLIENT\x0134=${seq}\x0152=20261204-08:00:00.000\x0137=V${o.clOrdId}\x0111=${o.clOrdId}\x0117=${execId}` +
    `\x0120=0\x01150=${ordStatus}\x0139=${ordStatus}\x0155=BTCUSDT\x0154=${o.side}\x0138=0.015\x0140=2\x0144=${o.price}\x0159=1\x01151=0\x0114=0.015\x016=${o.price}\x011=ACC-1\x01`;
  return `8=FIX.4.2\x019=${body.length}\x01${body}10=000\x01`;
}

class Session {
  readonly journal: SharedJournal;
  readonly store: FileSessionStore;
  readonly book: FileOrderBook;
  private inSeq = 1;

  constructor(dir: string, key: string, bookOpts: { evictAfterMs?: number; compactMinRecords?: number }) {
    this.journal = sessionJournalFor(dir, key, { fsync });
    this.store = new FileSessionStore(dir, key, { journal: this.journal });
    this.book = new FileOrderBook(dir, key, { ...bookOpts, journal: this.journal });
  }

  async open(): Promise<void> {
    await this.store.open();
    await this.book.open();
  }

  async close(): Promise<void> {
    await this.book.close();
    await this.store.close();
  }

  /** The inbound NewOrderSingle's seqnum, as the session records it. */
  received(): void {
    this.store.setNextTargetSeqNum(++this.inSeq).catch(() => undefined);
  }

  /** A save with one report: the report is stored as sent and confirmed once the save is durable. */
  saveWithReport(o: GatewayOrder, execId: string, ordStatus: string): Promise<void> {
    const p = this.book.save(o, [{ execId, message: report(execId) }]);
    const seq = this.store.nextSenderSeqNum();
    const stored = this.store.appendSent(seq, erText(seq, o, execId, ordStatus));
    return Promise.all([p, stored]).then(() => this.book.confirm([execId]));
  }
}

function heapSpaces(): string {
  return v8
    .getHeapSpaceStatistics()
    .filter((sp) => sp.space_size > MB)
    .map((sp) => `${sp.space_name.replace(/_space$/, '')} ${fmt(sp.space_used_size)}/${fmt(sp.space_size)}`)
    .join(', ');
}

async function addLive(s: Session, from: number, to: number): Promise<void> {
  let p: Promise<void> = Promise.resolve();
  for (let n = from; n < to; n++) {
    const o = newOrder(n, Date.now());
    s.received();
    s.book.save(o).catch(() => undefined);
    p = s.saveWithReport({ ...o, status: '0', acked: true, venueOrderId: `V${n}`, execSeq: 1 }, `E-${o.venueClientOrderId}-1`, '0');
    // A client's burst: this many orders arrive before the first is answered (--burst).
    if (n % BURST === BURST - 1) await p;
  }
  await p;
}

async function liveOrders(dir: string, count: number): Promise<void> {
  // No compaction in this phase: the journal's size is not what is measured.
  const s = new Session(dir, 'LIVE', { compactMinRecords: Number.MAX_SAFE_INTEGER });
  await s.open();
  const before = { gc: mem(true), raw: mem(false) };
  await addLive(s, 0, count);
  const after = { raw: mem(false), gc: mem(true) };
  console.log(`  V8 heap spaces (used/committed MB) at ${count.toLocaleString('en')} live: ${heapSpaces()}`);
  await addLive(s, count, 2 * count);
  const twice = mem(true);
  const per = (b: number) => ((b / count) * 100_000) / MB;
  const line = (what: string, a: Mem, b: Mem) =>
    `  ${what}: RSS ${per(b.rss - a.rss).toFixed(1)} MB   heap used ${per(b.heapUsed - a.heapUsed).toFixed(1)} MB, heap committed ${per(b.heapTotal - a.heapTotal).toFixed(1)} MB, ` +
    `external ${per(b.external - a.external).toFixed(1)} MB (array buffers ${per(b.arrayBuffers - a.arrayBuffers).toFixed(1)} MB)`;
  console.log(`1. ${count.toLocaleString('en')} live (open, resting) orders in one session, bursts of ${BURST} orders per tick, per 100,000 (target <= ${TARGET_PER_100K_MB} MB):`);
  console.log(line('without a forced GC', before.raw, after.raw));
  console.log(line('after global.gc()  ', before.gc, after.gc));
  console.log(line(`the next ${count.toLocaleString('en')} (after gc)`, after.gc, twice));
  const rssPer = per(after.gc.rss - before.gc.rss);
  const rssNext = per(twice.rss - after.gc.rss);
  const verdict = (v: number) => (v <= TARGET_PER_100K_MB ? 'met' : 'NOT met');
  console.log(`  memory per 100,000 live orders, the first ${count.toLocaleString('en')}: ${rssPer.toFixed(1)} MB RSS   (target <= ${TARGET_PER_100K_MB} MB: ${verdict(rssPer)})`);
  console.log(`  memory per 100,000 live orders, the next ${count.toLocaleString('en')}:  ${rssNext.toFixed(1)} MB RSS   (target <= ${TARGET_PER_100K_MB} MB: ${verdict(rssNext)})`);
  await s.close();
}

async function throughOneSession(dir: string, total: number, evictAfterMs: number): Promise<void> {
  const s = new Session(dir, 'FLOW', { evictAfterMs });
  await s.open();
  console.log(
    `2. ${total.toLocaleString('en')} orders through one session (new -> acked -> filled, 2 reports stored and confirmed per order; grace before eviction ${evictAfterMs} ms; the session journal's default compaction policy):`,
  );
  const t0 = Date.now();
  const samples: number[] = [];
  let peakRss = 0;
  let inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const now = Date.now();
    const o = newOrder(n, now);
    s.received();
    s.book.save(o).catch(() => undefined);
    const acked: GatewayOrder = { ...o, status: '0', acked: true, venueOrderId: `V${n}`, execSeq: 1 };
    inFlight.push(s.saveWithReport(acked, `E-${o.venueClientOrderId}-1`, '0'));
    const filled: GatewayOrder = { ...acked, status: '2', cumQty: '0.015', avgPx: acked.price!, notional: '900', fillIds: FillIds.of([`T${n}`]), updatedAt: now };
    inFlight.push(s.saveWithReport(filled, `F-${o.venueClientOrderId}-T${n}`, '2'));
    if (n % 2000 === 1999) {
      await Promise.all(inFlight);
      inFlight = [];
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    if ((n + 1) % 100_000 === 0) {
      await Promise.all(inFlight);
      inFlight = [];
      const m = mem(true);
      samples.push(m.rss);
      const st = s.book.evictedStats;
      const size = (await fsp.stat(s.journal.file)).size;
      console.log(
        `  ${String(n + 1).padStart(9)} orders  RSS ${fmt(m.rss).padStart(6)} MB  heap ${fmt(m.heapUsed).padStart(6)} MB (committed ${fmt(m.heapTotal).padStart(6)})  external ${fmt(m.external).padStart(5)} MB  ` +
          `in memory ${String(st.inMemory).padStart(6)}  evicted ${String(st.orders).padStart(7)} (index ${fmt(st.indexBytes)} MB)  journal ${(size / MB).toFixed(0)} MB, ${s.journal.journal.fileRecords} records  ` +
          `compactions ${s.journal.compactions}  ${((Date.now() - t0) / 1000).toFixed(0)} s`,
      );
    }
  }
  await Promise.all(inFlight);
  const steady = samples.slice(1);
  const lo = Math.min(...steady);
  const hi = Math.max(...steady);
  const first = samples[0] ?? 0;
  const last = samples[samples.length - 1] ?? 0;
  console.log(
    `  RSS from ${samples.length > 1 ? '200,000' : '-'} to ${total.toLocaleString('en')} orders: ${fmt(lo)}..${fmt(hi)} MB (spread ${fmt(hi - lo)} MB; first sample ${fmt(first)} MB, last ${fmt(last)} MB); peak sampled every 2,000 orders ${fmt(peakRss)} MB   (target: flat)`,
  );
  console.log(`  compactions while running: ${s.journal.compactions}   (target: > 0)`);
  console.log(`  evicted-order index: ${(s.book.evictedStats.indexBytes / Math.max(1, s.book.evictedStats.orders)) | 0} bytes per evicted order`);
  await s.close();
  if (!process.argv.includes('--reopen')) return;
  // A restart replays the journal: every order kept (retention) is in memory until its grace period ends.
  const before = mem(true);
  const t1 = Date.now();
  const again = new Session(dir, 'FLOW', { evictAfterMs });
  await again.open();
  const opened = mem(true);
  console.log(
    `  reopened (${((Date.now() - t1) / 1000).toFixed(0)} s): RSS ${fmt(opened.rss)} MB, heap ${fmt(opened.heapUsed)} MB (before ${fmt(before.rss)} / ${fmt(before.heapUsed)} MB), in memory ${again.book.evictedStats.inMemory}`,
  );
  await new Promise((r) => setTimeout(r, evictAfterMs + 100));
  await again.book.save({ ...newOrder(total + 1, Date.now()), status: '0' }); // a save sweeps
  const swept = mem(true);
  console.log(`  after the grace period: RSS ${fmt(swept.rss)} MB, heap ${fmt(swept.heapUsed)} MB, in memory ${again.book.evictedStats.inMemory}, evicted ${again.book.evictedStats.orders}`);
  await again.close();
}

async function main(): Promise<void> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'memory-bench-'));
  try {
    console.log(
      `memory bench: in-process session journal (FileSessionStore + FileOrderBook), node ${process.execArgv.join(' ') || '(no flags)'} (npm start runs the gateway with --max-semi-space-size=32), ` +
        `fsync ${fsync ? 'on' : 'OFF (--fsync to turn it on)'}, journals in ${os.tmpdir()}; ` +
        `${forceGc ? 'samples taken after global.gc() unless said otherwise' : 'run with --expose-gc for exact samples'}`,
    );
    await liveOrders(dir, arg('live', 100_000));
    const orders = arg('orders', 1_000_000);
    if (orders > 0) await throughOneSession(dir, orders, arg('evict-after-ms', 1_000));
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
