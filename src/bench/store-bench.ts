// Micro-benchmark of FileSessionStore.appendSent with fdatasync: bursts of N concurrent appends,
// each burst awaited before the next, so group commit shares one write+fsync per burst.
//
//   node dist/bench/store-bench.js [seconds per row, default 2] [directory, default os.tmpdir()]

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileSessionStore } from '../fix/store/file-session-store';

const BURSTS = [1, 10, 100];

function executionReport(seq: number): string {
  const body =
    `35=8\x0134=${seq}\x0149=GATEWAY\x0156=CLIENT\x0152=20260101-12:00:00.000\x01` +
    `37=1234567890123456789\x0111=cl-${seq}\x0117=ex-${seq}\x0120=0\x01150=F\x0139=1\x0155=BTCUSDT\x0154=1\x01` +
    `38=0.50000000\x0132=0.10000000\x0131=65000.10\x01151=0.40000000\x0114=0.10000000\x016=65000.10\x01`;
  return `8=FIX.4.2\x019=${body.length}\x01${body}10=000\x01`;
}

async function row(dir: string, burst: number, seconds: number): Promise<string[]> {
  const store = new FileSessionStore(dir, `BENCH-${burst}`);
  await store.open();
  const fsyncs0 = store.stats.fsyncs;
  let seq = store.nextSenderSeqNum();
  let appends = 0;
  const pending: Promise<void>[] = new Array(burst);
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < burst; i++, seq++) pending[i] = store.appendSent(seq, executionReport(seq));
    await Promise.all(pending);
    appends += burst;
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const fsyncs = store.stats.fsyncs - fsyncs0;
  await store.close();
  const perSec = appends / secs;
  return [
    String(burst),
    String(Math.round(perSec)),
    String(Math.round(fsyncs / secs)),
    (appends / Math.max(fsyncs, 1)).toFixed(1),
    ((secs * 1e6) / (appends / burst)).toFixed(0),
  ];
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? '2');
  const base = fs.mkdtempSync(path.join(process.argv[3] ?? os.tmpdir(), 'store-bench-'));
  try {
    const header = ['burst', 'appends/s', 'fsyncs/s', 'appends/fsync', 'µs/burst'];
    const rows = [header];
    for (const b of BURSTS) rows.push(await row(base, b, seconds));
    const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    console.log(`FileSessionStore.appendSent, fsync on, ${seconds}s per row, ${base}`);
    for (const r of rows) console.log(r.map((v, c) => v.padStart(widths[c])).join('  '));
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
