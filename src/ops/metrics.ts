// The gateway's Prometheus metrics (prom-client): every name is defined here. Values on the order
// path are hot-metrics.ts cells resolved once per session or venue; states (logged on, stream
// connected, queue depth) are read only when /metrics is scraped.
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { FixField } from '../fix/message';
import type { AcceptorObserver, LogonRefusalReason } from '../fix/acceptor';
import type { SessionObserver } from '../fix/session-observer';
import { ORDER_OUTCOMES, OrderOutcome, outboundMeaning, RejectKind } from './fix-reasons';
import { CounterCell, HotCounter, HotHistogram } from './hot-metrics';

/** Venue REST calls: 1 ms to 10 s. */
export const VENUE_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Journal writes (write + sync): 50 µs to 1 s. */
export const FLUSH_LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Distinct MsgType label values per session and direction; more (a client sending junk types) count as `other`. */
const MAX_MSG_TYPES = 64;
const MSG_TYPE = /^[0-9A-Za-z]{1,2}$/;

export interface RejectEntry {
  /** ms since epoch */
  at: number;
  session: string;
  kind: RejectKind;
  reason: string;
  /** What was rejected: `ClOrdID X`, `MsgSeqNum N (35=D)`. */
  ref: string;
  /** Text (58) as sent to the client. */
  text: string;
}

/** Longest ref / Text kept for the status page. */
const MAX_REJECT_FIELD = 200;

function clip(text: string): string {
  return text.length <= MAX_REJECT_FIELD ? text : `${text.slice(0, MAX_REJECT_FIELD)}… (${text.length} characters)`;
}

/** The last `capacity` rejects sent, newest first when listed. */
export class RecentRejects {
  private readonly ring: RejectEntry[] = [];
  private next = 0;

  constructor(readonly capacity = 20) {}

  add(e: RejectEntry): void {
    // ClOrdID and Text may echo a client's field (up to a frame's 1 MB): the page shows a prefix.
    e = { ...e, ref: clip(e.ref), text: clip(e.text) };
    if (this.ring.length < this.capacity) this.ring.push(e);
    else this.ring[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
  }

  list(): RejectEntry[] {
    const n = this.ring.length;
    const out: RejectEntry[] = [];
    for (let i = 1; i <= n; i++) out.push(this.ring[(this.next - i + n * 2) % n]);
    return out;
  }
}

/** What /metrics reads at scrape time. */
export interface MetricsState {
  /** Per session: logged on now? */
  sessionsLoggedOn(): Array<{ session: string; loggedOn: boolean }>;
  /** Per gateway session's venue. */
  venues(): Array<{ session: string; venue: string; ready: boolean; streamConnected: boolean; queued: { orders: number; queries: number } }>;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly rejects = new RecentRejects();

  readonly messagesReceived: HotCounter;
  readonly messagesSent: HotCounter;
  readonly sessionRejects: HotCounter;
  readonly businessRejects: HotCounter;
  readonly orders: HotCounter;
  readonly cancelRejects: HotCounter;
  readonly unknownOutcomesResolved: HotCounter;
  readonly venueRequestDuration: HotHistogram;
  readonly venueErrors: HotCounter;
  readonly streamReconnects: HotCounter;
  readonly reconciliations: HotCounter;
  readonly storeFlushDuration: HotHistogram;
  readonly logonsRefused: HotCounter;

  constructor(state: MetricsState) {
    const r = this.registry;
    // Process and runtime: CPU, memory, GC, handles and nodejs_eventloop_lag_seconds (+ percentiles).
    collectDefaultMetrics({ register: r });

    new Gauge({
      name: 'fixgw_sessions_logged_on',
      help: 'FIX sessions logged on now.',
      registers: [r],
      collect() {
        this.set(state.sessionsLoggedOn().filter((s) => s.loggedOn).length);
      },
    });
    new Gauge({
      name: 'fixgw_session_logged_on',
      help: '1 while the FIX session is logged on, else 0.',
      labelNames: ['session'],
      registers: [r],
      collect() {
        for (const s of state.sessionsLoggedOn()) this.set({ session: s.session }, s.loggedOn ? 1 : 0);
      },
    });
    this.messagesReceived = new HotCounter('fixgw_messages_received_total', 'FIX messages received, by MsgType (35).', ['session', 'msg_type'], r);
    this.messagesSent = new HotCounter('fixgw_messages_sent_total', 'FIX messages sent (new sequence numbers; resends not counted), by MsgType (35).', ['session', 'msg_type'], r);
    this.sessionRejects = new HotCounter('fixgw_session_rejects_total', 'Session-level Rejects (35=3) sent, by SessionRejectReason (373).', ['session', 'reason'], r);
    this.businessRejects = new HotCounter('fixgw_business_rejects_total', 'BusinessMessageRejects (35=j) sent, by BusinessRejectReason (380).', ['session', 'reason'], r);
    this.orders = new HotCounter(
      'fixgw_orders_total',
      'Order outcomes reported to clients (ExecutionReports by ExecType; rejects by OrdRejReason 103). Status replies and re-sends are not counted.',
      ['session', 'outcome', 'reason'],
      r,
    );
    this.cancelRejects = new HotCounter('fixgw_cancel_rejects_total', 'OrderCancelRejects (35=9) sent, by CxlRejReason (102).', ['session', 'reason'], r);
    this.unknownOutcomesResolved = new HotCounter(
      'fixgw_unknown_outcomes_resolved_total',
      'Creates of unknown outcome (timeout, 5xx, crash) settled: found at the venue, or proven absent and rejected.',
      ['session', 'venue', 'outcome'],
      r,
    );
    this.venueRequestDuration = new HotHistogram(
      'fixgw_venue_request_duration_seconds',
      'Venue calls as the gateway sees them (rate-limit queueing included), by operation.',
      ['venue', 'operation'],
      VENUE_LATENCY_BUCKETS,
      r,
    );
    this.venueErrors = new HotCounter('fixgw_venue_errors_total', 'Venue calls that failed, by error class (src/venues/venue.ts hierarchy).', ['venue', 'operation', 'class'], r);
    new Gauge({
      name: 'fixgw_venue_rate_limit_queue_depth',
      help: 'Venue requests waiting for rate-limit budget, by request class.',
      labelNames: ['session', 'venue', 'class'],
      registers: [r],
      collect() {
        for (const v of state.venues()) {
          this.set({ session: v.session, venue: v.venue, class: 'orders' }, v.queued.orders);
          this.set({ session: v.session, venue: v.venue, class: 'queries' }, v.queued.queries);
        }
      },
    });
    new Gauge({
      name: 'fixgw_venue_ready',
      help: '1 while the venue is started and its stream (or poller) connected, else 0.',
      labelNames: ['session', 'venue'],
      registers: [r],
      collect() {
        for (const v of state.venues()) this.set({ session: v.session, venue: v.venue }, v.ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'fixgw_venue_stream_connected',
      help: '1 while the venue order stream (or poller) is connected, else 0.',
      labelNames: ['session', 'venue'],
      registers: [r],
      collect() {
        for (const v of state.venues()) this.set({ session: v.session, venue: v.venue }, v.streamConnected ? 1 : 0);
      },
    });
    this.streamReconnects = new HotCounter('fixgw_venue_stream_reconnects_total', 'Venue stream (or poller) connections after the first.', ['session', 'venue'], r);
    this.reconciliations = new HotCounter('fixgw_venue_reconciliations_total', 'Reconciliations of open orders with the venue (after each stream connect).', ['session', 'venue'], r);
    this.storeFlushDuration = new HotHistogram(
      'fixgw_store_flush_duration_seconds',
      'Durable journal writes (write + fdatasync of one batch), by store.',
      ['session', 'store'],
      FLUSH_LATENCY_BUCKETS,
      r,
    );
    this.logonsRefused = new HotCounter(
      'fixgw_logons_refused_total',
      'Connections refused before logon (TLS handshake or certificate, CompIDs, password, throttle, ...), by FIX port and reason (a fixed set, src/fix/acceptor.ts).',
      ['port', 'reason'],
      r,
    );
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  sessionObserver(session: string): SessionObserver {
    return new SessionMetrics(this, session);
  }

  /** For FixAcceptor: refusals by port and reason (both from our side: the configured ports, a fixed reason list). */
  acceptorObserver(): AcceptorObserver {
    const cells = new Map<string, CounterCell>();
    return {
      logonRefused: (port: number, reason: LogonRefusalReason) => {
        const key = `${port}|${reason}`;
        let cell = cells.get(key);
        if (!cell) cells.set(key, (cell = this.logonsRefused.cell({ port: String(port), reason })));
        cell.n++;
      },
    };
  }

  /** For a journal's `stats.onWrite`. */
  storeFlushObserver(session: string, store: 'session' | 'orders'): (seconds: number) => void {
    const cell = this.storeFlushDuration.cell({ session, store });
    return (seconds) => cell.observe(seconds);
  }
}

/** One session's counters, resolved once; MsgType cells on first sight of each type. */
class SessionMetrics implements SessionObserver {
  private readonly receivedCells = new Map<string, CounterCell>();
  private readonly sentCells = new Map<string, CounterCell>();
  private readonly outcomes: Record<Exclude<OrderOutcome, 'rejected'>, CounterCell>;
  private readonly rejectCells = new Map<string, CounterCell>();

  constructor(
    private readonly m: GatewayMetrics,
    private readonly session: string,
  ) {
    const o = {} as Record<string, CounterCell>;
    for (const outcome of ORDER_OUTCOMES) if (outcome !== 'rejected') o[outcome] = m.orders.cell({ session, outcome, reason: '' });
    this.outcomes = o as Record<Exclude<OrderOutcome, 'rejected'>, CounterCell>;
  }

  received(msgType: string): void {
    (this.receivedCells.get(msgType) ?? this.typeCell(this.receivedCells, this.m.messagesReceived, msgType)).n++;
  }

  sent(msgType: string, body: readonly FixField[], extraHeader: readonly FixField[] | undefined): void {
    (this.sentCells.get(msgType) ?? this.typeCell(this.sentCells, this.m.messagesSent, msgType)).n++;
    const meaning = outboundMeaning(msgType, body, extraHeader);
    if (meaning === undefined) return;
    if (meaning.kind === 'order') {
      this.outcomes[meaning.outcome].n++;
      return;
    }
    // Rejects are rare: building their key and entry here costs nothing that matters.
    const key = `${meaning.kind}|${meaning.reason}`;
    let cell = this.rejectCells.get(key);
    if (!cell) {
      const family = { session_reject: this.m.sessionRejects, business_reject: this.m.businessRejects, cancel_reject: this.m.cancelRejects, order_reject: this.m.orders }[meaning.kind];
      cell = family.cell(meaning.kind === 'order_reject' ? { session: this.session, outcome: 'rejected', reason: meaning.reason } : { session: this.session, reason: meaning.reason });
      this.rejectCells.set(key, cell);
    }
    cell.n++;
    this.m.rejects.add({ at: Date.now(), session: this.session, kind: meaning.kind, reason: meaning.reason, ref: meaning.ref, text: meaning.text });
  }

  private typeCell(cells: Map<string, CounterCell>, family: HotCounter, msgType: string): CounterCell {
    const label = MSG_TYPE.test(msgType) && cells.size < MAX_MSG_TYPES ? msgType : 'other';
    const cell = family.cell({ session: this.session, msg_type: label });
    if (label === msgType) cells.set(msgType, cell);
    return cell;
  }
}
