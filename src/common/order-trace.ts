// Per-order stage timestamps, for the benchmark's latency breakdown (issue 9). Off unless the
// environment names a dump file (GATEWAY_TRACE=path): then `orderTrace` exists, each stage boundary
// records performance.now() into preallocated typed arrays under the order's ClOrdID, and the table
// is written to the file as CSV when the process exits. Off, every hook is `orderTrace?.x(...)` on
// an undefined constant: nothing is recorded, nothing allocated.
//
// The stages of one NewOrderSingle, in order (the first of each per order counts):
//   bytesIn       the socket chunk that carried it arrived
//   validated     the session checked it and hands it to the application
//   venueRequest  the application calls the venue (after its pre-save is written; durable first
//                 where the overlap is not safe)
//   venueReply    the venue's answer to the create arrived
//   reportHanded  the first report for the order reached the session (committed: order state and
//                 ER appended to the shared journal, in one tick)
//   reportOnWire  that report was written to the socket (after the one shared write is durable)
// Besides: the durable writes so far (the journal's fdatasyncs, counted by the journal), sampled at
// every stage, so a phase's writes per order are the difference over its orders, and the fdatasyncs
// that completed between the venue reply and the ER on the wire are seen per order.
import * as fs from 'fs';
import { performance } from 'perf_hooks';

export enum Stage {
  BytesIn = 0,
  Validated = 1,
  VenueRequest = 2,
  VenueReply = 3,
  ReportHanded = 4,
  ReportOnWire = 5,
}
export const STAGE_NAMES = ['bytes_in', 'validated', 'venue_request', 'venue_reply', 'report_handed', 'report_on_wire'] as const;
const STAGES = STAGE_NAMES.length;

export class OrderTrace {
  private readonly slots = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly at: Float64Array;
  private readonly writesAt: Float64Array;
  private lastChunkAt = 0;
  /** Durable writes (journal fdatasyncs) so far: counted by the journal (src/durable/journal.ts). */
  durableWrites = 0;

  constructor(
    private readonly file: string,
    private readonly capacity: number,
  ) {
    this.at = new Float64Array(capacity * STAGES);
    this.writesAt = new Float64Array(capacity * STAGES);
  }

  /** A socket chunk arrived: the orders it carries were "in" at this instant. */
  bytesIn(): void {
    this.lastChunkAt = performance.now();
  }

  /** The session hands a checked application message to the application (NewOrderSingles are traced). */
  validated(msgType: string, clOrdId: string | undefined): void {
    if (msgType !== 'D' || clOrdId === undefined || this.slots.has(clOrdId) || this.ids.length >= this.capacity) return;
    const slot = this.ids.length;
    this.ids.push(clOrdId);
    this.slots.set(clOrdId, slot);
    this.at[slot * STAGES + Stage.BytesIn] = this.lastChunkAt;
    this.at[slot * STAGES + Stage.Validated] = performance.now();
    this.writesAt[slot * STAGES + Stage.BytesIn] = this.durableWrites;
    this.writesAt[slot * STAGES + Stage.Validated] = this.durableWrites;
  }

  /** A later stage of the order with this ClOrdID (first time only; unknown ids are ignored). */
  mark(stage: Stage, clOrdId: string | undefined): void {
    if (clOrdId === undefined) return;
    const slot = this.slots.get(clOrdId);
    if (slot === undefined) return;
    const i = slot * STAGES + stage;
    if (this.at[i] === 0) {
      this.at[i] = performance.now();
      this.writesAt[i] = this.durableWrites;
    }
  }

  /** `raw` is an outbound FIX message: marks `stage` for the ClOrdID (11) of an ExecutionReport. */
  markReport(stage: Stage, raw: string): void {
    if (raw.indexOf('\x0135=8\x01') < 0) return;
    const at = raw.indexOf('\x0111=');
    if (at < 0) return;
    this.mark(stage, raw.slice(at + 4, raw.indexOf('\x01', at + 4)));
  }

  /**
   * CSV: clOrdId, the stage times (ms, performance.now() of this process; 0 = not reached), the
   * durable writes done when it was validated, when its venue reply came, when its ER went on the wire.
   */
  dump(): void {
    const lines = [`cl_ord_id,${STAGE_NAMES.join(',')},durable_writes_before,durable_writes_at_reply,durable_writes_at_wire`];
    for (let s = 0; s < this.ids.length; s++) {
      const row = [this.ids[s]];
      for (let k = 0; k < STAGES; k++) row.push(this.at[s * STAGES + k].toFixed(4));
      const w = s * STAGES;
      row.push(String(this.writesAt[w + Stage.Validated]), String(this.writesAt[w + Stage.VenueReply]), String(this.writesAt[w + Stage.ReportOnWire]));
      lines.push(row.join(','));
    }
    lines.push(`#total_durable_writes,${this.durableWrites}`);
    fs.writeFileSync(this.file, lines.join('\n') + '\n');
  }
}

function fromEnvironment(): OrderTrace | undefined {
  const file = process.env.GATEWAY_TRACE;
  if (!file) return undefined;
  const trace = new OrderTrace(file, Number(process.env.GATEWAY_TRACE_CAPACITY) || 200_000);
  process.on('exit', () => trace.dump());
  return trace;
}

/** The process's trace: undefined unless GATEWAY_TRACE is set. */
export const orderTrace: OrderTrace | undefined = fromEnvironment();
