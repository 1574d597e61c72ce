// Reads the gateway's per-order stage trace (GATEWAY_TRACE, src/common/order-trace.ts) and turns it
// into the latency breakdown per phase: p50 / p99 of each stage-to-stage interval of the orders
// whose ClOrdID starts with the phase's letter, and the durable writes per order.
import * as fs from 'fs';
import { percentile } from './fix-load-client';

export interface Segment {
  name: string;
  /** What the interval holds, e.g. "1 order book save". */
  holds: string;
  p50: number;
  p99: number;
  /** Orders that reached both ends. */
  n: number;
}

export interface PhaseBreakdown {
  tag: string;
  segments: Segment[];
  /** Durable writes (journal fdatasyncs) per order over the phase; NaN when unknown. */
  durableWritesPerOrder: number;
  /** p50 / max of the fdatasyncs that completed between an order's venue reply and its ER on the wire. */
  replyToWireWrites: { p50: number; max: number; n: number };
}

/** [name, holds, from stage column, to stage column] (columns after cl_ord_id). */
const SEGMENTS: ReadonlyArray<[string, string, number, number]> = [
  ['FIX bytes in → validated', 'framing, parse, session checks', 0, 1],
  ['validated → venue request', 'order checks + the pre-save being written (overlapped: HashKey); durable first elsewhere', 1, 2],
  ['venue request → reply', 'sign, HTTP round trip, parse (the pre-save flushes meanwhile)', 2, 3],
  ['reply → report to session', 'commit: order state + its ER appended to the shared journal', 3, 4],
  ['report to session → on wire', 'the ONE shared durable write (order state + ER store record)', 4, 5],
  ['reply → ER on wire', 'commit + the one durable write', 3, 5],
  ['bytes in → ER on wire', 'all of it, inside the gateway', 0, 5],
];

export function readTrace(file: string): {
  rows: Map<string, Float64Array[]>;
  writes: Map<string, number[]>;
  replyToWire: Map<string, number[]>;
  totalWrites: number;
} {
  const rows = new Map<string, Float64Array[]>();
  const writes = new Map<string, number[]>();
  const replyToWire = new Map<string, number[]>();
  let totalWrites = NaN;
  const lines = fs.readFileSync(file, 'latin1').split('\n');
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k];
    if (line === '') continue;
    const cells = line.split(',');
    if (cells[0] === '#total_durable_writes') {
      totalWrites = Number(cells[1]);
      continue;
    }
    const tag = cells[0].charAt(0);
    const t = new Float64Array(6);
    for (let i = 0; i < 6; i++) t[i] = Number(cells[1 + i]);
    if (!rows.has(tag)) {
      rows.set(tag, []);
      writes.set(tag, []);
      replyToWire.set(tag, []);
    }
    rows.get(tag)!.push(t);
    writes.get(tag)!.push(Number(cells[7]));
    if (cells.length >= 10 && t[3] > 0 && t[5] > 0) replyToWire.get(tag)!.push(Number(cells[9]) - Number(cells[8]));
  }
  return { rows, writes, replyToWire, totalWrites };
}

/**
 * The breakdown of the phase with ClOrdID letter `tag`. `writesAfter` is the durable-write count at
 * the start of the next phase (or the total), so the phase's last orders' writes are counted too.
 */
export function breakdownOf(trace: ReturnType<typeof readTrace>, tag: string, writesAfter: number): PhaseBreakdown | undefined {
  const rows = trace.rows.get(tag);
  if (!rows || rows.length === 0) return undefined;
  const segments: Segment[] = SEGMENTS.map(([name, holds, from, to]) => {
    const d: number[] = [];
    for (const r of rows) if (r[from] > 0 && r[to] > 0) d.push((r[to] - r[from]) * 1000);
    const sorted = Float64Array.from(d).sort();
    return { name, holds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), n: d.length };
  });
  const w = trace.writes.get(tag)!;
  const rw = Float64Array.from(trace.replyToWire.get(tag) ?? []).sort();
  return {
    tag,
    segments,
    durableWritesPerOrder: (writesAfter - w[0]) / rows.length,
    replyToWireWrites: { p50: percentile(rw, 0.5), max: rw.length > 0 ? rw[rw.length - 1] : NaN, n: rw.length },
  };
}

/** The first durable-write count recorded for the phase `tag` (to close the phase before it). */
export function firstWritesOf(trace: ReturnType<typeof readTrace>, tag: string): number | undefined {
  return trace.writes.get(tag)?.[0];
}
