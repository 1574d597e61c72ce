// Memory of the order path (issue 9, item 5), in-process: FileOrderBook driven directly, fsync off
// (memory, not disk, is measured), no FIX session and no venue.
//   1. heap / RSS per 100,000 live (open, resting) orders in the book;   target <= 200 MB
//   2. RSS over 1,000,000 orders through one book (new, acked, filled, report confirmed; terminal
//      orders leave memory after the grace period), sampled every 100,000;  target: flat
//
//   npm run bench:memory [-- --orders 1000000 --live 100000]
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileOrderBook } from '../gateway/file-order-book';
import { FillIds, GatewayOrder, createOrder } from '../gateway/order';

const MB = 1024 * 1024;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

function gc(): void {
  (global as { gc?: () => void }).gc?.();
}

function mem(): { heap: number; rss: number } {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

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

async function liveOrders(dir: string, count: number): Promise<void> {
  const book = new FileOrderBook(dir, 'LIVE', { compactMinRecords: Number.MAX_SAFE_INTEGER });
  await book.open();
  const before = mem();
  let p: Promise<void> = Promise.resolve();
  for (let n = 0; n < count; n++) {
    const o = newOrder(n, Date.now());
    book.save(o).catch(() => undefined);
    p = book.save({ ...o, status: '0', acked: true, venueOrderId: `V${n}`, execSeq: 1 }, [{ execId: `E-${o.venueClientOrderId}-1`, message: report('x') }]);
    book.confirm([`E-${o.venueClientOrderId}-1`]);
    if (n % 5000 === 4999) await p;
  }
  await p;
  const after = mem();
  const per100k = (b: number) => ((b / count) * 100_000) / MB;
  console.log(`live orders: ${count} open, resting orders in the book`);
  console.log(`  heap per 100,000 live orders: ${per100k(after.heap - before.heap).toFixed(1)} MB   (target <= 200 MB)`);
  console.log(`  RSS  per 100,000 live orders: ${per100k(after.rss - before.rss).toFixed(1)} MB   (target <= 200 MB)`);
  await book.close();
}

async function throughOneSession(dir: string, total: number, evictAfterMs: number): Promise<void> {
  const book = new FileOrderBook(dir, 'FLOW', { evictAfterMs });
  await book.open();
  console.log(`${total.toLocaleString('en')} orders through one book (new -> acked -> filled, reports confirmed; grace before eviction ${evictAfterMs} ms, default compaction policy)`);
  const t0 = Date.now();
  const samples: number[] = [];
  let peakRss = 0;
  let p: Promise<void> = Promise.resolve();
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const now = Date.now();
    const o = newOrder(n, now);
    book.save(o).catch(() => undefined);
    const acked: GatewayOrder = { ...o, status: '0', acked: true, venueOrderId: `V${n}`, execSeq: 1 };
    book.save(acked, [{ execId: `E-${o.venueClientOrderId}-1`, message: report('a') }]).catch(() => undefined);
    const filled: GatewayOrder = { ...acked, status: '2', cumQty: '0.015', avgPx: acked.price!, notional: '900', fillIds: FillIds.of([`T${n}`]), updatedAt: now };
    p = book.save(filled, [{ execId: `F-${o.venueClientOrderId}-T${n}`, message: report('f') }]);
    const ids = [`E-${o.venueClientOrderId}-1`, `F-${o.venueClientOrderId}-T${n}`];
    inFlight.push(p.then(() => book.confirm(ids)));
    if (n % 2000 === 1999) {
      await Promise.all(inFlight.splice(0));
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    if ((n + 1) % 100_000 === 0) {
      await Promise.all(inFlight.splice(0));
      const m = mem();
      samples.push(m.rss);
      const s = book.evictedStats;
      console.log(
        `  ${String(n + 1).padStart(9)} orders  RSS ${(m.rss / MB).toFixed(0).padStart(5)} MB  heap ${(m.heap / MB).toFixed(0).padStart(5)} MB  in memory ${String(s.inMemory).padStart(7)}  evicted ${String(s.orders).padStart(8)} (index ${(s.indexBytes / MB).toFixed(1)} MB)  journal records ${book.recordCount}  ${((Date.now() - t0) / 1000).toFixed(0)} s`,
      );
    }
  }
  await Promise.all(inFlight.splice(0));
  await p;
  const steady = samples.slice(1);
  const lo = Math.min(...steady);
  const hi = Math.max(...steady);
  console.log(`  RSS from 200,000 to ${total.toLocaleString('en')} orders: ${(lo / MB).toFixed(0)}..${(hi / MB).toFixed(0)} MB (spread ${((hi - lo) / MB).toFixed(0)} MB); peak sampled every 2,000 orders ${(peakRss / MB).toFixed(0)} MB   (target: flat)`);
  console.log(`  evicted-order index: ${((book.evictedStats.indexBytes / Math.max(1, book.evictedStats.orders)) | 0)} bytes per evicted order`);
  await book.close();
}

async function main(): Promise<void> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'memory-bench-'));
  try {
    console.log(`memory bench: in-process FileOrderBook (journal fsync on, tmpfs or disk: ${os.tmpdir()}), ${(global as { gc?: unknown }).gc ? 'GC forced before each sample' : 'run with --expose-gc for exact samples'}`);
    await liveOrders(dir, arg('live', 100_000));
    await throughOneSession(dir, arg('orders', 1_000_000), arg('evict-after-ms', 1_000));
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
