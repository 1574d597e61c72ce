// The fault suite's rig: one simulator child per venue, one gateway child with a session per venue
// (all on one FIX port), one FIX client per session, a mixed load generator, and the audit that
// compares what each client was told with what each simulator holds (/__sim/orders).
//
// "Lost" and "duplicated" are defined from the venue's truth (audit()):
//  - every venue order maps to exactly one ClOrdID (its OrderID 37 in that order's reports);
//    a venue order no ClOrdID reports is LOST (the client does not know a live venue order);
//    a ClOrdID reported with two venue orders, or a venue order under two ClOrdIDs, is DUPLICATED;
//  - every venue fill is reported exactly once: a live fill report whose ExecID was already seen
//    is DUPLICATED; Σ LastShares (unique ExecIDs) or the last CumQty above the venue's cumQty is
//    DUPLICATED, below it is LOST; the last AvgPx must equal the venue's avgPrice;
//  - every order ends in the venue's state: the last OrdStatus (39) the client got must be the
//    venue's status (new 0, partially_filled 1, filled 2, canceled 4, rejected 8/C, expired C/4); a
//    ClOrdID the venue has no order for must end rejected (39=8), else it is LOST; a ClOrdID
//    with no report at all is LOST;
//  - seqnums continue: every MsgSeqNum 1..last the gateway sent reached the client (live, resent
//    or gap-filled), i.e. every ResendRequest was served (else a sequence problem);
//  - the FIX ExecutionReport invariants (fixinvariants.py's rules) hold over everything received.
// A row is good when lost = duplicated = 0 and there are no other problems.
import * as fs from 'fs';
import * as path from 'path';
import Decimal from 'decimal.js';
import { uuidFromEngineId } from '../../src/venues/dzengi/dzengi-simulator';
import { FixMsg, FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, buildConfig, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';
import {
  FixRecorder,
  GATEWAY_COMP_ID,
  RecordedMessage,
  SimOrderView,
  SimulatorProcess,
  autoAnswerResendRequests,
  cancelFields,
  checkFixInvariants,
  inEngineOrder,
  killAllSimulators,
  logonAndSync,
  nosFields,
  startSimulatorProcess,
  statusFields,
} from '../support/gateway-e2e';

export const ALL_VENUES = ['hashkey', 'zerocap', 'dzengi', 'apifiny', 'coinut'] as const;
export type VenueName = (typeof ALL_VENUES)[number];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the load needs to know about a venue's simulator market. */
interface ChaosProfile {
  symbol: string;
  /** TimeInForce of a limit order the venue keeps on the book. */
  tif: string;
  /** Venue settings for POST /__sim/config at start (e.g. Zerocap keeps orders open). */
  simConfig?: Record<string, unknown>;
  cancels: boolean;
  /** The venue's order id as the gateway reports it in OrderID (37), from /__sim/orders. */
  wireId?(o: SimOrderView): string;
}

const PROFILES: Record<VenueName, ChaosProfile> = {
  hashkey: { symbol: 'BTCUSDT', tif: '1', cancels: true },
  // Zerocap is fill-or-kill; restAllOrders keeps a FOK that does not cross open (as the venue
  // may) so trades fill it later. It has no cancel: every cancel is 35=9 102=2.
  zerocap: { symbol: 'BTC/USD', tif: '4', simConfig: { restAllOrders: true }, cancels: false },
  // /__sim/ lists Dzengi's engine ids; on the wire (and in 37) they are the same number as a UUID.
  dzengi: { symbol: 'BTC/USD', tif: '1', cancels: true, wireId: (o) => uuidFromEngineId(o.orderId) },
  // Apifiny's orderId is the one the gateway allocates: the engine's client order id.
  apifiny: { symbol: 'BTCUSDT', tif: '1', cancels: true, wireId: (o) => o.clientOrderId },
  coinut: { symbol: 'BTCUSDT', tif: '1', cancels: true },
};

export function clientCompId(venue: VenueName): string {
  return `CHAOS${venue.toUpperCase()}`;
}

/** One client order as the load generator sent it. */
interface SentOrder {
  clOrdId: string;
  side: '1' | '2';
  price: string;
  qty: string;
  filling: boolean;
  cancelSent: boolean;
}

export class VenueLane {
  readonly profile: ChaosProfile;
  client!: FixTestClient;
  rec!: FixRecorder;
  readonly orders = new Map<string, SentOrder>();
  /** ClOrdIDs of cancels → the order they cancel. */
  readonly cancels = new Map<string, string>();
  statusRequests = 0;
  /** Resting orders not yet cancelled, oldest first (from `restingHead` on). */
  private readonly resting: SentOrder[] = [];
  private readonly sentOrders: SentOrder[] = [];
  private restingHead = 0;
  private n = 0;
  private tick = 0;

  constructor(
    readonly venue: VenueName,
    /** Replaced when the simulator is restarted (venue down at start-up). */
    public sim: SimulatorProcess,
  ) {
    this.profile = PROFILES[venue];
  }

  get compId(): string {
    return clientCompId(this.venue);
  }

  async connect(port: number): Promise<void> {
    if (this.client === undefined) {
      // A desk's engine answers the gateway's TestRequest: a lane left silent longer than HeartBtInt
      // (e.g. settling while a venue bans us for 120 s) must keep its session, or the reports made
      // meanwhile are stored for a resend nobody asks for and read as lost.
      this.client = await FixTestClient.connect({ port, senderCompId: this.compId, targetCompId: GATEWAY_COMP_ID, autoAnswerTestRequest: true });
      this.rec = new FixRecorder(this.client);
      autoAnswerResendRequests(this.client);
    } else {
      await this.client.reconnect(port);
    }
    await logonAndSync(this.client, 15_000);
  }

  /**
   * Sends one new order: buys below 60000 and sells above it rest (each at its own price, so a
   * venue without client order ids never sees two orders of the same content); every
   * `fillEvery`-th crosses the reference price and fills at once.
   */
  newOrder(prefix: string, fillEvery = 3): string {
    const i = this.n++;
    const clOrdId = `${prefix}-${this.venue}-${i}`;
    const side: '1' | '2' = i % 2 === 0 ? '1' : '2';
    const filling = i % fillEvery === 0;
    // 0.01 apart and cycling through 40,000 prices: distinct content for every live order.
    this.tick = (this.tick + 1) % 40_000;
    const offset = new Decimal(this.tick).times('0.01').plus(100);
    const price = filling ? (side === '1' ? '61000' : '59000') : side === '1' ? new Decimal(59000).minus(offset).toFixed(2) : new Decimal(61000).plus(offset).toFixed(2);
    const qty = ['0.001', '0.002', '0.003'][i % 3];
    const order: SentOrder = { clOrdId, side, price, qty, filling, cancelSent: false };
    this.orders.set(clOrdId, order);
    this.sentOrders.push(order);
    if (!filling) this.resting.push(order);
    this.send('D', nosFields(clOrdId, { symbol: this.profile.symbol, side, qty, price, tif: this.profile.tif }));
    return clOrdId;
  }

  /** Resting orders not yet cancelled (some may have filled meanwhile). */
  get restingCount(): number {
    return this.resting.length - this.restingHead;
  }

  /** Cancels a resting order not yet cancelled (the oldest such). */
  cancelOne(): string | undefined {
    while (this.restingHead < this.resting.length) {
      const o = this.resting[this.restingHead++];
      if (this.restingHead > 4096) {
        this.resting.splice(0, this.restingHead);
        this.restingHead = 0;
      }
      o.cancelSent = true;
      const cl = `${o.clOrdId}-X`;
      this.cancels.set(cl, o.clOrdId);
      this.send('F', cancelFields(cl, o.clOrdId, { symbol: this.profile.symbol, side: o.side, qty: o.qty }));
      return cl;
    }
    return undefined;
  }

  statusOne(): void {
    if (this.sentOrders.length === 0) return;
    const o = this.sentOrders[Math.floor(Math.random() * this.sentOrders.length)];
    this.statusRequests++;
    this.send('H', statusFields(o.clOrdId, { symbol: this.profile.symbol, side: o.side }));
  }

  /** An external taker: a sell at ≤ 59000 reaches resting buys, a buy at ≥ 61000 resting sells. */
  async trade(): Promise<void> {
    const side = Math.random() < 0.5 ? 'sell' : 'buy';
    const price = side === 'sell' ? '58000' : '62000';
    await this.sim.control.trade({ symbol: this.profile.symbol, side, qty: '0.0025', price }).catch(() => undefined);
  }

  /** Sends when the session is up; while it is down the message waits in the client's sent log and goes out on the gateway's ResendRequest. */
  private send(type: string, fields: Parameters<FixTestClient['send']>[1]): void {
    try {
      this.client.send(type, fields);
    } catch {
      /* connection down: numbered and kept, resent when the gateway asks */
    }
  }
}

export interface AuditRow {
  fault: string;
  venue: string;
  ordersSent: number;
  ersReceived: number;
  venueOrders: number;
  lost: number;
  duplicated: number;
  recoverSeconds: number | null;
  /** Texts (58) of the rejects (150=8) and cancel rejects (35=9) sent since the row's base, with counts. */
  rejectTexts?: Record<string, number>;
  /** How many of the armed faults the simulator fired (undefined: the fault is an action, not a rule). */
  faultsFired?: number;
  problems: string[];
}

const TERMINAL = new Set(['2', '3', '4', '8', 'C']);

function statusMatches(venueStatus: string, fix: string): boolean {
  switch (venueStatus) {
    case 'new':
      return fix === '0';
    case 'partially_filled':
      return fix === '1';
    case 'filled':
      return fix === '2';
    case 'canceled':
      return fix === '4';
    case 'rejected':
      return fix === '8' || fix === 'C' || fix === '4';
    case 'expired':
      return fix === 'C' || fix === '4';
    default:
      return false;
  }
}

export interface AuditResult {
  lost: string[];
  duplicated: string[];
  problems: string[];
  /** ClOrdIDs not yet in the venue's state (still pending, or a status mismatch that may yet resolve). */
  unsettled: number;
  venueOrders: number;
  ers: number;
}

/** Compares everything `lane`'s client got with the simulator's orders (see the header). */
export async function audit(lane: VenueLane): Promise<AuditResult> {
  const venueOrders = (await lane.sim.control.orders({}, 60_000)).map((o) => (lane.profile.wireId ? { ...o, orderId: lane.profile.wireId(o) } : o));
  return auditTruth({ venueOrders, received: lane.client.received, recorded: lane.rec.messages, orders: lane.orders, cancels: lane.cancels, compId: lane.compId });
}

export interface TruthInput {
  /** The venue's orders, with orderId as the gateway reports it in 37. */
  venueOrders: SimOrderView[];
  /** Everything the client received, in arrival order. */
  received: readonly FixMsg[];
  /** Everything the client sent and received (for the ExecutionReport invariants). */
  recorded: RecordedMessage[];
  /** ClOrdIDs of the new orders the client sent. */
  orders: ReadonlyMap<string, unknown>;
  /** Cancel ClOrdID → the ClOrdID it cancels. */
  cancels: ReadonlyMap<string, string>;
  compId: string;
}

/** The audit itself, pure: the client's messages against the venue's orders (see the header). */
export function auditTruth(input: TruthInput): AuditResult {
  const lane = { orders: input.orders, cancels: input.cancels, compId: input.compId };
  const venueOrders = input.venueOrders;
  const byId = new Map<string, SimOrderView>(venueOrders.map((o) => [o.orderId, o]));
  const lost: string[] = [];
  const duplicated: string[] = [];
  const problems: string[] = [];
  let unsettled = 0;

  const root = (cl: string) => lane.cancels.get(cl) ?? cl;
  interface Seen {
    venueIds: Set<string>;
    lastStatus?: string;
    lastCum?: string;
    lastAvg?: string;
    lastSeq: number;
    fillQty: Decimal;
    reports: number;
  }
  const seen = new Map<string, Seen>();
  const liveExecIds = new Set<string>();
  let ers = 0;
  const messages = input.received;
  for (const m of messages) {
    if (m.msgType !== '8' && m.msgType !== '9') continue;
    const cl = m.msgType === '9' ? (m.get(41) ?? '') : root(m.get(11) ?? '');
    const key = lane.orders.has(cl) ? cl : root(m.get(41) ?? cl);
    if (!lane.orders.has(key)) continue;
    let s = seen.get(key);
    if (!s) seen.set(key, (s = { venueIds: new Set(), lastSeq: 0, fillQty: new Decimal(0), reports: 0 }));
    const oid = m.get(37);
    if (oid !== undefined && byId.has(oid)) s.venueIds.add(oid);
    if (m.msgType === '9') {
      if (m.seqNum > s.lastSeq && m.get(39) !== undefined) {
        s.lastSeq = m.seqNum;
        s.lastStatus = m.get(39);
      }
      continue;
    }
    ers++;
    s.reports++;
    const statusReply = m.get(20) === '3';
    const et = m.get(150);
    const execId = m.get(17) ?? '';
    if (!statusReply && (et === '1' || et === '2')) {
      if (liveExecIds.has(execId)) {
        if (!m.possDup) duplicated.push(`${key}: fill ExecID ${execId} reported twice (34=${m.seqNum})`);
      } else {
        liveExecIds.add(execId);
        s.fillQty = s.fillQty.plus(m.get(32) ?? '0');
      }
    }
    if (m.seqNum > s.lastSeq) {
      s.lastSeq = m.seqNum;
      s.lastStatus = m.get(39);
      s.lastCum = m.get(14);
      s.lastAvg = m.get(6);
    }
  }

  const claimedBy = new Map<string, string[]>();
  for (const [cl, s] of seen) for (const id of s.venueIds) claimedBy.set(id, [...(claimedBy.get(id) ?? []), cl]);
  for (const o of venueOrders) {
    const by = claimedBy.get(o.orderId);
    if (by === undefined) lost.push(`venue order ${o.orderId} (${o.side} ${o.qty} @ ${o.price ?? 'market'}, ${o.status}) is reported under no ClOrdID`);
    else if (by.length > 1) duplicated.push(`venue order ${o.orderId} is reported under ${by.join(', ')}`);
  }
  for (const [cl] of lane.orders) {
    const s = seen.get(cl);
    if (s === undefined || s.lastStatus === undefined) {
      lost.push(`${cl}: no report`);
      unsettled++;
      continue;
    }
    if (s.venueIds.size > 1) duplicated.push(`${cl}: reported with venue orders ${[...s.venueIds].join(', ')}`);
    const vid = [...s.venueIds][0];
    const v = vid === undefined ? undefined : byId.get(vid);
    if (v === undefined) {
      if (s.lastStatus !== '8') {
        lost.push(`${cl}: ends 39=${s.lastStatus} but the venue has no such order`);
        unsettled++;
      }
      continue;
    }
    if (!statusMatches(v.status, s.lastStatus)) {
      lost.push(`${cl}: ends 39=${s.lastStatus}, the venue says ${v.status}`);
      unsettled++;
    }
    const venueCum = new Decimal(v.cumQty);
    if (s.fillQty.gt(venueCum)) duplicated.push(`${cl}: fills reported sum to ${s.fillQty.toFixed()}, the venue filled ${v.cumQty}`);
    else if (s.fillQty.lt(venueCum)) {
      lost.push(`${cl}: fills reported sum to ${s.fillQty.toFixed()}, the venue filled ${v.cumQty}`);
      unsettled++;
    }
    if (s.lastCum !== undefined && !new Decimal(s.lastCum).eq(venueCum) && TERMINAL.has(s.lastStatus)) {
      problems.push(`${cl}: final CumQty ${s.lastCum} != venue cumQty ${v.cumQty}`);
    }
    if (venueCum.gt(0) && s.lastAvg !== undefined && TERMINAL.has(s.lastStatus) && !new Decimal(s.lastAvg).minus(v.avgPrice).abs().lte(new Decimal(v.avgPrice).times('1e-9'))) {
      problems.push(`${cl}: final AvgPx ${s.lastAvg} != venue avgPrice ${v.avgPrice}`);
    }
  }

  // Seqnums continue: 1..last all arrived (live, resent or inside a gap fill).
  const got = new Set<number>();
  let last = 0;
  for (const m of messages) {
    last = Math.max(last, m.seqNum);
    if (m.msgType === '4' && m.get(123) === 'Y') for (let q = m.seqNum; q < Number(m.get(36)); q++) got.add(q);
    else got.add(m.seqNum);
  }
  const missing: number[] = [];
  for (let q = 1; q <= last && missing.length < 5; q++) if (!got.has(q)) missing.push(q);
  if (missing.length > 0) problems.push(`MsgSeqNum never received (ResendRequest not served?): ${missing.join(', ')}`);

  const inv = checkFixInvariants(inEngineOrder(input.recorded), lane.compId);
  if (inv.problems.length > 0) problems.push(...inv.problems.slice(0, 5).map((p) => `invariant: ${p}`));
  return { lost, duplicated, problems, unsettled, venueOrders: venueOrders.length, ers };
}

/** Waits until every lane's audit shows nothing unsettled (or `timeoutMs`); returns the seconds it took. */
export async function settle(lanes: VenueLane[], timeoutMs: number, since = Date.now()): Promise<Map<VenueName, number | null>> {
  const out = new Map<VenueName, number | null>();
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(lanes);
  for (;;) {
    for (const lane of [...pending]) {
      const a = await audit(lane).catch(() => undefined);
      if (a !== undefined && a.unsettled === 0 && a.lost.length === 0) {
        out.set(lane.venue, (Date.now() - since) / 1000);
        pending.delete(lane);
      }
    }
    if (pending.size === 0 || Date.now() > deadline) break;
    // A soak's audit reads tens of thousands of orders: ask less often then.
    await sleep(lanes.some((l) => l.orders.size > 2000) ? 2000 : 250);
  }
  for (const lane of pending) out.set(lane.venue, null);
  return out;
}

/** Gateway + simulators + clients for a set of venues. */
export class ChaosRig {
  gw!: GatewayProcess;
  readonly lanes: VenueLane[] = [];
  private configText = '';

  static async start(
    venues: readonly VenueName[],
    opts: {
      session?(venue: VenueName): Record<string, string | number>;
      simConfig?(venue: VenueName): Record<string, unknown>;
      /** Start the gateway while every venue is down (simulators stopped; startVenues() brings them up on the same ports). */
      venuesDown?: boolean;
    } = {},
  ): Promise<ChaosRig> {
    const rig = new ChaosRig();
    for (const venue of venues) {
      const sim = await startSimulatorProcess({ venue });
      const lane = new VenueLane(venue, sim);
      const simConfig = { ...lane.profile.simConfig, ...opts.simConfig?.(venue) };
      if (opts.venuesDown) await sim.stop();
      else if (Object.keys(simConfig).length > 0) await sim.control.configure(simConfig);
      rig.lanes.push(lane);
    }
    rig.configText = buildConfig(
      rig.lanes.map((l) => ({
        SenderCompID: GATEWAY_COMP_ID,
        TargetCompID: l.compId,
        Application: 'gateway',
        Venue: l.venue,
        VenueEnvironment: 'simulator',
        VenueRestUrl: l.sim.restUrl,
        VenueWsUrl: l.sim.wsUrl,
        ...opts.session?.(l.venue),
      })),
      // The admin endpoint on {{PORT2}}: the soak reads the process's heap and off-heap memory there.
      { ResetOnLogon: 'N', ResetOnLogout: 'N', ResetOnDisconnect: 'N', HttpAcceptHost: '127.0.0.1', HttpAcceptPort: '{{PORT2}}' },
    );
    await rig.startGateway(opts.venuesDown ? 0 : undefined);
    return rig;
  }

  /** Starts every lane's simulator again on its earlier port (after `venuesDown`), then waits for the gateway's "venue ready" of each. */
  async startVenues(): Promise<void> {
    for (const lane of this.lanes) {
      lane.sim = await startSimulatorProcess({ venue: lane.venue, port: lane.sim.port });
      if (lane.profile.simConfig) await lane.sim.control.configure(lane.profile.simConfig);
    }
    await this.waitVenuesReady(this.lanes.length, 60_000);
  }

  private async waitVenuesReady(n: number, timeoutMs: number): Promise<void> {
    let ready = 0;
    await this.gw.waitForLog((e) => e.msg === 'venue ready' && ++ready >= n, timeoutMs);
  }

  lane(venue: VenueName): VenueLane {
    const l = this.lanes.find((x) => x.venue === venue);
    if (!l) throw new Error(`no lane ${venue}`);
    return l;
  }

  /**
   * Starts (or restarts, on the same store and port) the gateway, waits for `venuesReady` (default:
   * every lane's) "venue ready", and logs every client on.
   */
  async startGateway(venuesReady = this.lanes.length): Promise<void> {
    const prev = this.gw as GatewayProcess | undefined;
    this.gw = await startGatewayProcess({ config: this.configText, dir: prev?.dir, ports: prev ? [...prev.ports] : undefined, portCount: 2, readyTimeoutMs: 30_000 });
    if (venuesReady > 0) await this.waitVenuesReady(venuesReady, 30_000);
    await Promise.all(this.lanes.map((l) => l.connect(this.gw.port)));
  }

  async kill9(): Promise<void> {
    await this.gw.kill('SIGKILL');
    await Promise.all(this.lanes.map((l) => l.client.waitClosed(5000).catch(() => undefined)));
  }

  /** RSS (kB) and open fds of the gateway process, from /proc. */
  processStats(): { rssKb: number; fds: number } {
    const pid = this.gw.child.pid!;
    const statusText = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(statusText)?.[1] ?? 0);
    const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
    return { rssKb, fds };
  }

  /**
   * Where the gateway's memory is, from its /metrics (prom-client's process and Node.js metrics): the
   * JS heap in use, memory outside it held by JS objects (Buffers), and the rest of RSS (native:
   * allocator, thread stacks, code).
   */
  async memoryStats(): Promise<{ heapUsedMb: number; externalMb: number }> {
    const res = await fetch(`http://127.0.0.1:${this.gw.ports[1]}/metrics`);
    const text = await res.text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576;
    return { heapUsedMb: metric('nodejs_heap_size_used_bytes'), externalMb: metric('nodejs_external_memory_bytes') };
  }

  /** Bytes under the gateway's store directory. */
  storeBytes(): number {
    let total = 0;
    const walk = (d: string) => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else total += fs.statSync(p).size;
      }
    };
    walk(this.gw.storeDir);
    return total;
  }

  async stop(): Promise<void> {
    for (const l of this.lanes) l.client?.destroy();
    await killAllGateways();
    await Promise.all(this.lanes.map((l) => l.sim.stop().catch(() => undefined)));
    await killAllSimulators();
    if (this.gw) removeDir(this.gw.dir);
  }
}

/**
 * Mixed load on every lane until `stop()`: per lane `ordersPerSecond` new orders (a third fill at
 * once, the rest rest), a cancel and a status request every few orders, an external trade
 * against resting orders every few orders. `paused` holds it (e.g. while the gateway is down).
 */
export function startLoad(
  lanes: VenueLane[],
  opts: {
    prefix: string;
    /** New orders per second, per lane. */
    ordersPerSecond: number | ((lane: VenueLane) => number);
    /** Cancel the oldest resting order whenever a lane has more than this many (keeps a soak steady). */
    maxResting?: number;
  },
): { stop(): Promise<void>; paused: boolean; sent(): number } {
  let running = true;
  let sent = 0;
  const ctl = {
    paused: false,
    sent: () => sent,
    stop: async () => {
      running = false;
      await loop;
    },
  };
  const periodMs = 50;
  const rate = (l: VenueLane) => (typeof opts.ordersPerSecond === 'number' ? opts.ordersPerSecond : opts.ordersPerSecond(l));
  const loop = (async () => {
    const credit = new Map<VenueLane, number>(lanes.map((l) => [l, 0]));
    const k = new Map<VenueLane, number>(lanes.map((l) => [l, 0]));
    let last = Date.now();
    while (running) {
      await sleep(periodMs);
      const now = Date.now();
      const elapsed = now - last;
      last = now;
      if (ctl.paused) continue;
      for (const lane of lanes) {
        let c = credit.get(lane)! + (rate(lane) * elapsed) / 1000;
        let i = k.get(lane)!;
        while (c >= 1) {
          c -= 1;
          lane.newOrder(opts.prefix);
          sent++;
          if (opts.maxResting !== undefined) {
            if (lane.profile.cancels && lane.restingCount > opts.maxResting) lane.cancelOne();
          } else if (i % 4 === 1) lane.cancelOne();
          if (i % 5 === 3) lane.statusOne();
          if (i % 3 === 2) void lane.trade();
          i++;
        }
        credit.set(lane, c);
        k.set(lane, i);
      }
    }
  })();
  return ctl;
}

export interface RowBase {
  /** Index in the client's received messages. */
  received: number;
  sent: number;
  ers: number;
  venueOrders: number;
}

/** Where a lane stands now, so that the next row counts what was sent after it. */
export async function rowBase(lane: VenueLane): Promise<RowBase> {
  return { received: lane.client.received.length, sent: lane.orders.size, ers: (await audit(lane)).ers, venueOrders: (await lane.sim.control.orders({}, 60_000)).length };
}

/**
 * One table row: orders, ERs and venue orders since `base`; lost and duplicated over everything the
 * lane ever sent (an earlier phase's loss would already have failed its own row).
 */
export function rowFrom(fault: string, lane: VenueLane, a: AuditResult, base: RowBase, recoverSeconds: number | null): AuditRow {
  return {
    fault,
    venue: lane.venue,
    ordersSent: lane.orders.size - base.sent,
    ersReceived: a.ers - base.ers,
    venueOrders: a.venueOrders - base.venueOrders,
    lost: a.lost.length,
    duplicated: a.duplicated.length,
    recoverSeconds,
    rejectTexts: rejectTexts(lane, base.received),
    problems: [...a.lost, ...a.duplicated, ...a.problems],
  };
}

function rejectTexts(lane: VenueLane, from: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of lane.client.received.slice(from)) {
    const rejected = (m.msgType === '8' && m.get(150) === '8' && m.get(20) !== '3') || m.msgType === '9';
    if (!rejected || m.possDup) continue;
    const text = `${m.msgType === '9' ? `35=9 102=${m.get(102)}` : `150=8 103=${m.get(103)}`} ${m.get(58) ?? ''}`
      // Ids vary per order (the rig's ClOrdIDs S-<venue>-<n>, venue ids): one line per kind of reject.
      .replace(/\b[A-Za-z0-9]+-[a-z]+-\d+\b/g, 'N')
      .replace(/\d{6,}/g, 'N');
    out[text] = (out[text] ?? 0) + 1;
  }
  return out;
}

/** Appends rows to the file the chaos runner prints (CHAOS_TABLE), when set. */
export function recordRows(rows: AuditRow[]): void {
  const file = process.env.CHAOS_TABLE;
  if (!file) return;
  for (const r of rows) fs.appendFileSync(file, JSON.stringify(r) + '\n');
}

export function formatTable(rows: AuditRow[]): string {
  const head = ['fault', 'venue', 'fired', 'orders sent', 'ERs received', 'venue orders', 'lost', 'duplicated', 'recover s'];
  const body = rows.map((r) => [
    r.fault,
    r.venue,
    r.faultsFired === undefined ? '—' : String(r.faultsFired),
    String(r.ordersSent),
    String(r.ersReceived),
    String(r.venueOrders),
    String(r.lost),
    String(r.duplicated),
    r.recoverSeconds === null ? 'never' : r.recoverSeconds.toFixed(1),
  ]);
  const lines = [head, ...body].map((c) => `| ${c.join(' | ')} |`);
  lines.splice(1, 0, `|${head.map(() => '---').join('|')}|`);
  return lines.join('\n');
}
