// Faults a test or benchmark arms on a running simulator. Venue neutral: the simulator asks
// `takeRequestFault(operation)` once per authenticated request and routes every user-stream event
// through a StreamOutbox, which applies the stream faults. Rules fire in the order they were
// armed; each fires `count` times (default 1) and is then gone.

export type FaultOperation = 'create' | 'cancel' | 'query' | 'openOrders' | 'listenKey' | 'instruments' | 'any';

export type RequestFaultKind =
  /** Perform the operation, then answer 5xx (status, default 500): "5xx after the order was created". */
  | 'error5xxAfter'
  /** Answer 5xx (status, default 503) without performing the operation. */
  | 'error5xxBefore'
  /** Perform the operation, never answer; destroy the socket after holdMs (default 30000). */
  | 'timeoutAfter'
  /** Answer 429 with the venue's rate-limit body, without performing. */
  | 'rateLimit429'
  /** Answer 418 (IP banned), without performing. */
  | 'ban418'
  /** Perform the operation, then destroy the socket without a reply. */
  | 'dropConnectionAfter';

export interface RequestFault {
  kind: RequestFaultKind;
  /** Default 'any'. */
  operation?: FaultOperation;
  count?: number;
  status?: number;
  holdMs?: number;
}

/** Hold the next `count` stream events back `ms` (later events queue behind them: order is kept). */
export interface StreamDelayFault {
  kind: 'delayStreamMs';
  ms: number;
  count?: number;
}

/** Swallow the next `count` stream events. */
export interface StreamSuppressFault {
  kind: 'suppressStreamEvents';
  count?: number;
}

/** Close every user-stream connection now (not kept: fires once when armed). */
export interface DropStreamsFault {
  kind: 'dropStreams';
}

/**
 * Every open WebSocket dies without closing, like a half-open link: for `ms` the simulator sends
 * nothing on it (no events, no pings, no pongs) and reads nothing, then destroys it. Fires once when
 * armed; later connections are fine. The client must notice the silence and reconnect.
 */
export interface SilenceStreamsFault {
  kind: 'silenceStreams';
  ms: number;
}

/**
 * The venue's clock runs `ms` ahead (negative: behind) of the host's from now until cleared: signed
 * timestamps are checked against it and its time endpoint reports it (simulators that check
 * timestamps: HashKey, Dzengi). Not counted: it is a state, not a rule.
 */
export interface ClockSkewFault {
  kind: 'clockSkew';
  ms: number;
}

export type FaultRule = RequestFault | StreamDelayFault | StreamSuppressFault | DropStreamsFault | SilenceStreamsFault | ClockSkewFault;

export type StreamVerdict = { action: 'deliver' } | { action: 'suppress' } | { action: 'delay'; ms: number };

const REQUEST_KINDS: ReadonlySet<string> = new Set<RequestFaultKind>([
  'error5xxAfter',
  'error5xxBefore',
  'timeoutAfter',
  'rateLimit429',
  'ban418',
  'dropConnectionAfter',
]);
const OPERATIONS: ReadonlySet<string> = new Set<FaultOperation>(['create', 'cancel', 'query', 'openOrders', 'listenKey', 'instruments', 'any']);
const DELIVER: StreamVerdict = { action: 'deliver' };
const SUPPRESS: StreamVerdict = { action: 'suppress' };

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

function isMs(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Checks a rule (as parsed from JSON) and returns it normalised; throws a readable error. */
export function parseFaultRule(raw: unknown): FaultRule {
  if (typeof raw !== 'object' || raw === null) throw new Error('a fault rule must be an object');
  const r = raw as Record<string, unknown>;
  const count = r.count === undefined ? 1 : r.count;
  if (!isCount(count)) throw new Error(`count must be an integer >= 1, got ${JSON.stringify(r.count)}`);
  switch (r.kind) {
    case 'dropStreams':
      return { kind: 'dropStreams' };
    case 'silenceStreams':
      if (!isMs(r.ms) || r.ms === 0) throw new Error(`silenceStreams needs ms > 0, got ${JSON.stringify(r.ms)}`);
      return { kind: 'silenceStreams', ms: r.ms };
    case 'suppressStreamEvents':
      return { kind: 'suppressStreamEvents', count };
    case 'clockSkew':
      if (!(typeof r.ms === 'number' && Number.isFinite(r.ms))) throw new Error(`clockSkew needs ms (a number, negative = behind), got ${JSON.stringify(r.ms)}`);
      return { kind: 'clockSkew', ms: r.ms };
    case 'delayStreamMs':
      if (!isMs(r.ms)) throw new Error(`delayStreamMs needs ms >= 0, got ${JSON.stringify(r.ms)}`);
      return { kind: 'delayStreamMs', ms: r.ms, count };
  }
  if (typeof r.kind !== 'string' || !REQUEST_KINDS.has(r.kind)) throw new Error(`unknown fault kind ${JSON.stringify(r.kind)}`);
  const operation = r.operation ?? 'any';
  if (typeof operation !== 'string' || !OPERATIONS.has(operation)) throw new Error(`unknown operation ${JSON.stringify(r.operation)}`);
  const rule: RequestFault = { kind: r.kind as RequestFaultKind, operation: operation as FaultOperation, count };
  if (r.status !== undefined) {
    if (!(typeof r.status === 'number' && Number.isInteger(r.status) && r.status >= 500 && r.status <= 599)) {
      throw new Error(`status must be a 5xx code, got ${JSON.stringify(r.status)}`);
    }
    rule.status = r.status;
  }
  if (r.holdMs !== undefined) {
    if (!isMs(r.holdMs)) throw new Error(`holdMs must be >= 0, got ${JSON.stringify(r.holdMs)}`);
    rule.holdMs = r.holdMs;
  }
  return rule;
}

type Armed<T> = T & { count: number };

export class FaultInjector {
  private requestRules: Armed<RequestFault>[] = [];
  private streamRules: Armed<StreamDelayFault | StreamSuppressFault>[] = [];
  private dropHandlers: (() => number)[] = [];
  private silenceHandlers: ((ms: number) => number)[] = [];
  /** How far the venue's clock is ahead of the host's (clockSkew), ms. */
  clockOffsetMs = 0;

  /** The venue's clock: the host's moved by the clockSkew fault (timestamp checks, time endpoints, Date headers). */
  venueClock(host: () => number = Date.now): () => number {
    return () => host() + this.clockOffsetMs;
  }

  /** Arm one rule or several (all are checked before any is armed). */
  arm(rules: FaultRule | FaultRule[]): void {
    const parsed = (Array.isArray(rules) ? rules : [rules]).map(parseFaultRule);
    for (const r of parsed) {
      if (r.kind === 'clockSkew') this.clockOffsetMs = r.ms;
      else if (r.kind === 'dropStreams') this.dropStreams();
      else if (r.kind === 'silenceStreams') this.silenceStreams(r.ms);
      else if (r.kind === 'delayStreamMs' || r.kind === 'suppressStreamEvents') this.streamRules.push({ ...r, count: r.count ?? 1 });
      else this.requestRules.push({ ...r, count: r.count ?? 1 });
    }
  }

  clear(): void {
    this.requestRules = [];
    this.streamRules = [];
    this.clockOffsetMs = 0;
  }

  /** Rules still armed, with their remaining counts. */
  pending(): FaultRule[] {
    return [...this.requestRules, ...this.streamRules].map((r) => ({ ...r }));
  }

  /** The fault this request must suffer, if any (consumes one firing). */
  takeRequestFault(operation: Exclude<FaultOperation, 'any'>): RequestFault | undefined {
    if (this.requestRules.length === 0) return undefined;
    const i = this.requestRules.findIndex((r) => r.operation === 'any' || r.operation === operation);
    if (i < 0) return undefined;
    const r = this.requestRules[i];
    if (--r.count === 0) this.requestRules.splice(i, 1);
    return { ...r };
  }

  hasStreamRules(): boolean {
    return this.streamRules.length > 0;
  }

  /** What happens to the next stream event (consumes one firing). */
  streamVerdict(): StreamVerdict {
    const r = this.streamRules[0];
    if (r === undefined) return DELIVER;
    if (--r.count === 0) this.streamRules.shift();
    return r.kind === 'suppressStreamEvents' ? SUPPRESS : { action: 'delay', ms: r.ms };
  }

  /** The simulator registers how to close its streams; returns an unregister function. */
  onDropStreams(handler: () => number): () => void {
    this.dropHandlers.push(handler);
    return () => {
      this.dropHandlers = this.dropHandlers.filter((h) => h !== handler);
    };
  }

  /** The simulator registers how to silence its WebSockets; returns an unregister function. */
  onSilenceStreams(handler: (ms: number) => number): () => void {
    this.silenceHandlers.push(handler);
    return () => {
      this.silenceHandlers = this.silenceHandlers.filter((h) => h !== handler);
    };
  }

  /** Silence every WebSocket for `ms` (SilenceStreamsFault); returns how many. */
  silenceStreams(ms: number): number {
    let n = 0;
    for (const h of this.silenceHandlers) n += h(ms);
    return n;
  }

  /** Close every user-stream connection now; returns how many were closed. */
  dropStreams(): number {
    let n = 0;
    for (const h of this.dropHandlers) n += h();
    return n;
  }
}

/**
 * One ordered outgoing event channel (e.g. one account's user stream). Applies the stream faults
 * per event, keeps order (a held event holds back everything after it), and hands the events that
 * are due together to `deliver` as one batch, so a burst stays one frame.
 */
export class StreamOutbox<E> {
  private queue: { event: E; due: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly later = new Set<NodeJS.Timeout>();

  constructor(
    private readonly faults: FaultInjector,
    private readonly deliver: (events: E[]) => void,
  ) {}

  /**
   * Send events (as one batch when nothing holds them). `delayMs` sends them that much later, like
   * a venue's processing time, without holding back what is pushed meanwhile.
   */
  push(events: E[], delayMs = 0): void {
    if (events.length === 0) return;
    if (delayMs > 0) {
      const t = setTimeout(() => {
        this.later.delete(t);
        this.push(events);
      }, delayMs);
      this.later.add(t);
      return;
    }
    if (this.queue.length === 0 && !this.faults.hasStreamRules()) {
      this.deliver(events);
      return;
    }
    const now = Date.now();
    for (const event of events) {
      const v = this.faults.streamVerdict();
      if (v.action === 'suppress') continue;
      this.queue.push({ event, due: now + (v.action === 'delay' ? v.ms : 0) });
    }
    this.flush();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const t of this.later) clearTimeout(t);
    this.later.clear();
    this.queue = [];
  }

  private flush(): void {
    const now = Date.now();
    let n = 0;
    while (n < this.queue.length && this.queue[n].due <= now) n++;
    if (n > 0) this.deliver(this.queue.splice(0, n).map((q) => q.event));
    if (this.queue.length > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.queue[0].due - now);
    }
  }
}
