// A small, deterministic matching engine shared by the venue simulators. Venue neutral: it speaks
// in its own words (statuses new/partially_filled/filled/canceled/rejected/expired) and each venue
// simulator maps them to the venue's wire words.
//
// Liquidity: client orders never match each other. Each instrument has a synthetic market maker
// quoting `depth` levels per side at referencePrice ± k·tickSize·spreadTicks (k = 1..depth), each
// level `levelQty` deep and refilled before every order. A crossing order takes level by level
// (one fill per level it touches, at the level price; `fillSlices` splits each of those fills in
// n). Orders that do not cross (or their GTC remainder) rest on the book, where only an external
// taker, `trade()`, fills them, in price-time priority at the resting order's price.
//
// All quantities and prices are decimal strings in and out; arithmetic is decimal.js. Events are
// emitted synchronously, in order, while an operation runs.

import Decimal from 'decimal.js';
import type { SimInstrument, SimLiquidity } from './simulator';

const Dec = Decimal.clone({ precision: 50, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -1000, toExpPos: 1000 });
type Dec = Decimal;
const ZERO = new Dec(0);
const PLAIN_DECIMAL = /^(?:\d+\.?\d*|\.\d+)$/;

export type SimSide = 'buy' | 'sell';
export type SimOrderType = 'limit' | 'market';
export type SimTimeInForce = 'GTC' | 'IOC' | 'FOK';
/** `canceled` with cumQty > 0 is a partial cancel; `expired` = remainder killed by IOC/FOK/market. */
export type SimOrderStatus = 'new' | 'partially_filled' | 'filled' | 'canceled' | 'rejected' | 'expired';
export type SimRejectReason = 'post_only_would_take' | 'fok_not_fillable';

export interface PlaceOrderInput {
  /** Accounts are isolated by this key (a simulator uses the API key). */
  account: string;
  /** '' when the venue has no client ids; not indexed then. */
  clientOrderId: string;
  symbol: string;
  side: SimSide;
  type: SimOrderType;
  /** Base quantity. Required unless a market order is sized by `quoteQty`. */
  qty?: string;
  /** Market orders only: spend (buy) or receive (sell) this much quote currency. */
  quoteQty?: string;
  /** Required for limit orders; ignored for market orders. */
  price?: string;
  timeInForce: SimTimeInForce;
  postOnly?: boolean;
}

export interface SimFill {
  /** Unique id of the match (a venue's trade / ticket id). */
  tradeId: string;
  /** Unique id of this account's execution record (distinct from tradeId). */
  execId: string;
  orderId: string;
  clientOrderId: string;
  account: string;
  symbol: string;
  side: SimSide;
  qty: string;
  price: string;
  quoteQty: string;
  fee: string;
  feeAsset: string;
  isMaker: boolean;
  /** ms since epoch */
  time: number;
}

/** An order as it stood at one moment (events carry one; later changes do not touch it). */
export interface SimOrder {
  orderId: string;
  account: string;
  clientOrderId: string;
  symbol: string;
  side: SimSide;
  type: SimOrderType;
  timeInForce: SimTimeInForce;
  postOnly: boolean;
  /** Base quantity ordered; '0' for a market order sized in quote (see quoteQty). */
  qty: string;
  quoteQty?: string;
  price?: string;
  status: SimOrderStatus;
  cumQty: string;
  /** Cumulative executed quote amount (Σ qty·price). */
  cumQuote: string;
  /** '0' before the first fill. */
  avgPrice: string;
  /** qty − cumQty while working, '0' once terminal (and for quote-sized orders). */
  leavesQty: string;
  /** Sum of fees so far, in feeAsset (base for buys, quote for sells). */
  fee: string;
  feeAsset: string;
  rejectReason?: SimRejectReason;
  /** True while the order rests on the book (cancelable, fillable by trade()). */
  resting: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface SimOrderWithFills extends SimOrder {
  fills: SimFill[];
}

export type EngineEvent =
  | { type: 'accepted'; order: SimOrder }
  | { type: 'fill'; order: SimOrder; fill: SimFill }
  | { type: 'canceled'; order: SimOrder }
  | { type: 'expired'; order: SimOrder }
  | { type: 'rejected'; order: SimOrder; reason: SimRejectReason };

/** Why an order was refused before it existed (the venue maps these to its codes). */
export type OrderCheckFailure =
  | { kind: 'unknown_symbol' }
  | { kind: 'missing_price' }
  | { kind: 'invalid_price' }
  | { kind: 'price_tick'; tickSize: string }
  | { kind: 'missing_qty' }
  | { kind: 'invalid_qty' }
  | { kind: 'qty_step'; stepSize: string }
  | { kind: 'min_qty'; minQty: string }
  | { kind: 'min_notional'; minNotional: string };

export type PlaceResult = { ok: true; order: SimOrder } | { ok: false; failure: OrderCheckFailure };

export type CancelResult =
  | { ok: true; order: SimOrder; previousStatus: SimOrderStatus }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'too_late'; order: SimOrder };

export interface OrderLookup {
  orderId?: string;
  clientOrderId?: string;
}

export interface EngineOptions {
  instruments: readonly SimInstrument[];
  /** Split every taker fill into n executions (step aligned). Default 1. */
  fillSlices?: number;
  /** Default 0.001 */
  takerFeeRate?: string;
  /** Default 0.0005 */
  makerFeeRate?: string;
  clock?: () => number;
  /** First id handed out (19-digit numeric string). Default clock()·10^6. */
  firstId?: string;
  /**
   * Finished orders kept (for queries, duplicate checks and allOrders); beyond this the oldest
   * finished ones are forgotten, so a long benchmark stays bounded. Default 200000.
   */
  maxFinishedOrders?: number;
}

export interface EngineSettings {
  fillSlices?: number;
  liquidity?: Record<string, Partial<SimLiquidity>>;
  referencePrices?: Record<string, string>;
}

interface OrderState {
  id: string;
  account: string;
  clientOrderId: string;
  symbol: string;
  side: SimSide;
  type: SimOrderType;
  tif: SimTimeInForce;
  postOnly: boolean;
  qty: Dec;
  qtyText: string;
  quoteQty?: Dec;
  price?: Dec;
  status: SimOrderStatus;
  resting: boolean;
  cumQty: Dec;
  cumQuote: Dec;
  fee: Dec;
  feeAsset: string;
  rejectReason?: SimRejectReason;
  createdAt: number;
  updatedAt: number;
  seq: number;
  fills: SimFill[];
}

interface Market {
  inst: Required<Pick<SimInstrument, 'baseAsset' | 'quoteAsset'>> & SimInstrument;
  tick: Dec;
  step: Dec;
  minQty: Dec;
  minNotional?: Dec;
  ref: Dec;
  depth: number;
  levelQty: Dec;
  spreadTicks: number;
  /** Synthetic ask / bid level prices, best first. */
  askLevels: Dec[];
  bidLevels: Dec[];
  /** Resting client orders, best first, then by time. Canceled entries are removed lazily. */
  bids: OrderState[];
  asks: OrderState[];
  stale: number;
}

interface AccountState {
  byClientId: Map<string, OrderState>;
  open: Map<string, OrderState>;
  fills: SimFill[];
}

const QUOTE_SUFFIXES = ['FDUSD', 'USDT', 'USDC', 'BUSD', 'USD', 'EUR', 'GBP', 'AUD', 'HKD', 'JPY', 'BTC', 'ETH'];

function splitSymbol(symbol: string): { base: string; quote: string } {
  for (const q of QUOTE_SUFFIXES) {
    if (symbol.length > q.length && symbol.endsWith(q)) return { base: symbol.slice(0, -q.length), quote: q };
  }
  return { base: symbol, quote: '' };
}

/** A positive plain decimal ("0.01", "3000"), or undefined. */
function parsePositive(text: string | undefined): Dec | undefined {
  if (text === undefined || !PLAIN_DECIMAL.test(text)) return undefined;
  const d = new Dec(text);
  return d.gt(0) ? d : undefined;
}

function requirePositive(text: string, what: string): Dec {
  const d = parsePositive(text);
  if (d === undefined) throw new Error(`${what} must be a positive decimal string, got ${JSON.stringify(text)}`);
  return d;
}

function requireDecimal(text: string, what: string): Dec {
  if (!PLAIN_DECIMAL.test(text)) throw new Error(`${what} must be a decimal string, got ${JSON.stringify(text)}`);
  return new Dec(text);
}

function floorToStep(value: Dec, step: Dec): Dec {
  return value.div(step).floor().mul(step);
}

const TERMINAL: ReadonlySet<SimOrderStatus> = new Set(['filled', 'canceled', 'rejected', 'expired']);

export class MatchingEngine {
  private readonly markets = new Map<string, Market>();
  private readonly orders = new Map<string, OrderState>();
  private readonly accounts = new Map<string, AccountState>();
  private readonly listeners: ((e: EngineEvent) => void)[] = [];
  private readonly clock: () => number;
  private readonly takerFee: Dec;
  private readonly makerFee: Dec;
  private readonly maxFinished: number;
  /** Finished orders, oldest first from `finishedHead`. */
  private finished: OrderState[] = [];
  private finishedHead = 0;
  private fillSlices: number;
  private nextId: bigint;
  private seq = 0;

  constructor(opts: EngineOptions) {
    this.clock = opts.clock ?? Date.now;
    this.takerFee = new Dec(opts.takerFeeRate ?? '0.001');
    this.makerFee = new Dec(opts.makerFeeRate ?? '0.0005');
    this.fillSlices = 1;
    this.maxFinished = opts.maxFinishedOrders ?? 200_000;
    this.nextId = opts.firstId !== undefined ? BigInt(opts.firstId) : BigInt(this.clock()) * 1_000_000n;
    for (const inst of opts.instruments) this.addInstrument(inst);
    this.configure({ fillSlices: opts.fillSlices ?? 1 });
  }

  // ---- set-up ---------------------------------------------------------------------------------

  /** Instruments as the engine uses them (assets and liquidity filled in). */
  instruments(): SimInstrument[] {
    return [...this.markets.values()].map((m) => this.describe(m));
  }

  instrument(symbol: string): SimInstrument | undefined {
    const m = this.markets.get(symbol);
    return m && this.describe(m);
  }

  /** Change fill slicing, liquidity or reference prices; throws on invalid settings (nothing applied). */
  configure(settings: EngineSettings): void {
    const { fillSlices, liquidity = {}, referencePrices = {} } = settings;
    if (fillSlices !== undefined && !(Number.isInteger(fillSlices) && fillSlices >= 1)) {
      throw new Error(`fillSlices must be an integer >= 1, got ${JSON.stringify(fillSlices)}`);
    }
    const updates: [Market, Partial<SimLiquidity>, Dec | undefined][] = [];
    for (const symbol of new Set([...Object.keys(liquidity), ...Object.keys(referencePrices)])) {
      const m = this.markets.get(symbol);
      if (m === undefined) throw new Error(`unknown symbol ${symbol}`);
      const liq = liquidity[symbol] ?? {};
      if (liq.depth !== undefined && !(Number.isInteger(liq.depth) && liq.depth >= 0)) throw new Error('depth must be an integer >= 0');
      if (liq.spreadTicks !== undefined && !(Number.isInteger(liq.spreadTicks) && liq.spreadTicks >= 1)) {
        throw new Error('spreadTicks must be an integer >= 1');
      }
      if (liq.levelQty !== undefined) requirePositive(liq.levelQty, 'levelQty');
      const ref = referencePrices[symbol] === undefined ? undefined : requirePositive(referencePrices[symbol], 'referencePrice');
      updates.push([m, liq, ref]);
    }
    if (fillSlices !== undefined) this.fillSlices = fillSlices;
    for (const [m, liq, ref] of updates) {
      if (liq.depth !== undefined) m.depth = liq.depth;
      if (liq.spreadTicks !== undefined) m.spreadTicks = liq.spreadTicks;
      if (liq.levelQty !== undefined) m.levelQty = new Dec(liq.levelQty);
      if (ref !== undefined) m.ref = ref;
      this.buildLevels(m);
    }
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  // ---- orders ---------------------------------------------------------------------------------

  /** Validate and process an order. A refused order (ok: false) never existed; a rejected one did. */
  place(input: PlaceOrderInput): PlaceResult {
    const m = this.markets.get(input.symbol);
    if (m === undefined) return { ok: false, failure: { kind: 'unknown_symbol' } };

    let price: Dec | undefined;
    if (input.type === 'limit') {
      if (input.price === undefined || input.price === '') return { ok: false, failure: { kind: 'missing_price' } };
      price = parsePositive(input.price);
      if (price === undefined) return { ok: false, failure: { kind: 'invalid_price' } };
      if (!price.mod(m.tick).isZero()) return { ok: false, failure: { kind: 'price_tick', tickSize: m.inst.tickSize } };
    }
    let qty = ZERO;
    let quoteQty: Dec | undefined;
    if (input.type === 'market' && input.quoteQty !== undefined) {
      quoteQty = parsePositive(input.quoteQty);
      if (quoteQty === undefined) return { ok: false, failure: { kind: 'invalid_qty' } };
    } else {
      if (input.qty === undefined || input.qty === '') return { ok: false, failure: { kind: 'missing_qty' } };
      const q = parsePositive(input.qty);
      if (q === undefined) return { ok: false, failure: { kind: 'invalid_qty' } };
      if (!q.mod(m.step).isZero()) return { ok: false, failure: { kind: 'qty_step', stepSize: m.inst.stepSize } };
      if (q.lt(m.minQty)) return { ok: false, failure: { kind: 'min_qty', minQty: m.inst.minQty } };
      qty = q;
    }
    if (m.minNotional !== undefined) {
      const notional = quoteQty ?? qty.mul(price ?? m.ref);
      if (notional.lt(m.minNotional)) return { ok: false, failure: { kind: 'min_notional', minNotional: m.inst.minNotional! } };
    }

    const now = this.clock();
    const o: OrderState = {
      id: this.takeId(),
      account: input.account,
      clientOrderId: input.clientOrderId,
      symbol: input.symbol,
      side: input.side,
      type: input.type,
      tif: input.timeInForce,
      postOnly: input.postOnly === true,
      qty,
      qtyText: qty.toFixed(),
      quoteQty,
      price,
      status: 'new',
      resting: false,
      cumQty: ZERO,
      cumQuote: ZERO,
      fee: ZERO,
      feeAsset: input.side === 'buy' ? m.inst.baseAsset : m.inst.quoteAsset,
      createdAt: now,
      updatedAt: now,
      seq: ++this.seq,
      fills: [],
    };
    this.orders.set(o.id, o);
    const acct = this.account(o.account);
    if (o.clientOrderId !== '') acct.byClientId.set(o.clientOrderId, o);

    if (o.postOnly && this.crossesSynthetic(m, o)) return this.reject(o, 'post_only_would_take');
    if (o.tif === 'FOK' && !this.fullyFillable(m, o)) return this.reject(o, 'fok_not_fillable');

    this.emit({ type: 'accepted', order: this.snapshot(o) });
    this.takeLiquidity(m, o);
    if (o.status !== 'filled') {
      if (o.type === 'limit' && o.tif === 'GTC') this.rest(m, o, acct);
      else this.finish(o, 'expired');
    }
    return { ok: true, order: this.snapshot(o) };
  }

  /** Cancel a resting order. Terminal orders answer too_late. */
  cancel(account: string, ref: OrderLookup): CancelResult {
    const o = this.lookup(account, ref);
    if (o === undefined) return { ok: false, reason: 'not_found' };
    if (!o.resting) return { ok: false, reason: 'too_late', order: this.snapshot(o) };
    const previousStatus = o.status;
    this.unrest(o);
    this.finish(o, 'canceled');
    return { ok: true, order: this.snapshot(o), previousStatus };
  }

  /** The venue ends a resting order by itself (a time limit, not a cancel anyone asked for): expired. */
  expire(account: string, ref: OrderLookup): CancelResult {
    const o = this.lookup(account, ref);
    if (o === undefined) return { ok: false, reason: 'not_found' };
    if (!o.resting) return { ok: false, reason: 'too_late', order: this.snapshot(o) };
    const previousStatus = o.status;
    this.unrest(o);
    this.finish(o, 'expired');
    return { ok: true, order: this.snapshot(o), previousStatus };
  }

  get(account: string, ref: OrderLookup): SimOrder | undefined {
    const o = this.lookup(account, ref);
    return o && this.snapshot(o);
  }

  /** The account's latest order with this client order id (for duplicate checks). */
  findByClientOrderId(account: string, clientOrderId: string): SimOrder | undefined {
    const o = this.accounts.get(account)?.byClientId.get(clientOrderId);
    return o && this.snapshot(o);
  }

  /** Resting orders of the account, oldest first. */
  openOrders(account: string, symbol?: string): SimOrder[] {
    const acct = this.accounts.get(account);
    if (acct === undefined) return [];
    const out: SimOrder[] = [];
    for (const o of acct.open.values()) if (symbol === undefined || o.symbol === symbol) out.push(this.snapshot(o));
    return out;
  }

  /** Fills of one order, oldest first. */
  fills(orderId: string): SimFill[] {
    return [...(this.orders.get(orderId)?.fills ?? [])];
  }

  /** The account's fills, oldest first, optionally narrowed. */
  accountFills(account: string, filter: { orderId?: string; clientOrderId?: string; symbol?: string } = {}): SimFill[] {
    if (filter.orderId !== undefined || filter.clientOrderId !== undefined) {
      const o = this.lookup(account, filter);
      return o === undefined || (filter.symbol !== undefined && o.symbol !== filter.symbol) ? [] : [...o.fills];
    }
    const all = this.accounts.get(account)?.fills ?? [];
    return filter.symbol === undefined ? [...all] : all.filter((f) => f.symbol === filter.symbol);
  }

  /** Every order still kept (all accounts, rejected ones included), oldest first, with fills. */
  allOrders(): SimOrderWithFills[] {
    return [...this.orders.values()].map((o) => ({ ...this.snapshot(o), fills: [...o.fills] }));
  }

  /**
   * Another market participant takes `qty` on `side` (the taker's side) up to `price` (any price
   * when omitted), hitting resting client orders in price-time priority at their prices. The
   * unmatched rest of the external order vanishes. Returns the client fills it made.
   */
  trade(symbol: string, side: SimSide, qty: string, price?: string): SimFill[] {
    const m = this.markets.get(symbol);
    if (m === undefined) throw new Error(`unknown symbol ${symbol}`);
    if (side !== 'buy' && side !== 'sell') throw new Error(`side must be buy or sell, got ${JSON.stringify(side)}`);
    let remaining = requirePositive(qty, 'qty');
    const limit = price === undefined ? undefined : requirePositive(price, 'price');
    const book = side === 'buy' ? m.asks : m.bids;
    const made: SimFill[] = [];
    while (remaining.gt(0) && book.length > 0) {
      const o = book[0];
      if (!o.resting) {
        book.shift();
        m.stale--;
        continue;
      }
      if (limit !== undefined && (side === 'buy' ? o.price!.gt(limit) : o.price!.lt(limit))) break;
      const q = Dec.min(remaining, o.qty.minus(o.cumQty));
      made.push(this.fill(o, q, o.price!, true));
      remaining = remaining.minus(q);
      if (o.status === 'filled') {
        book.shift();
        o.resting = false;
        this.accounts.get(o.account)!.open.delete(o.id);
      }
    }
    return made;
  }

  // ---- internals ------------------------------------------------------------------------------

  private addInstrument(inst: SimInstrument): void {
    const split = splitSymbol(inst.symbol);
    const full = { ...inst, baseAsset: inst.baseAsset ?? split.base, quoteAsset: inst.quoteAsset ?? split.quote };
    const step = requirePositive(inst.stepSize, `${inst.symbol} stepSize`);
    const m: Market = {
      inst: full,
      tick: requirePositive(inst.tickSize, `${inst.symbol} tickSize`),
      step,
      minQty: requirePositive(inst.minQty, `${inst.symbol} minQty`),
      minNotional: inst.minNotional === undefined ? undefined : requireDecimal(inst.minNotional, `${inst.symbol} minNotional`),
      ref: requirePositive(inst.referencePrice, `${inst.symbol} referencePrice`),
      depth: 5,
      levelQty: step.mul(100000),
      spreadTicks: 1,
      askLevels: [],
      bidLevels: [],
      bids: [],
      asks: [],
      stale: 0,
    };
    this.markets.set(inst.symbol, m);
    this.configure({ liquidity: { [inst.symbol]: inst.liquidity ?? {} } });
  }

  private describe(m: Market): SimInstrument {
    return {
      ...m.inst,
      referencePrice: m.ref.toFixed(),
      liquidity: { depth: m.depth, levelQty: m.levelQty.toFixed(), spreadTicks: m.spreadTicks },
    };
  }

  private buildLevels(m: Market): void {
    const gap = m.tick.mul(m.spreadTicks);
    m.askLevels = [];
    m.bidLevels = [];
    for (let k = 1; k <= m.depth; k++) {
      m.askLevels.push(m.ref.plus(gap.mul(k)));
      const bid = m.ref.minus(gap.mul(k));
      if (bid.gt(0)) m.bidLevels.push(bid);
    }
  }

  private account(key: string): AccountState {
    let a = this.accounts.get(key);
    if (a === undefined) {
      a = { byClientId: new Map(), open: new Map(), fills: [] };
      this.accounts.set(key, a);
    }
    return a;
  }

  private lookup(account: string, ref: OrderLookup): OrderState | undefined {
    if (ref.orderId !== undefined) {
      const o = this.orders.get(ref.orderId);
      return o !== undefined && o.account === account ? o : undefined;
    }
    if (ref.clientOrderId !== undefined) return this.accounts.get(account)?.byClientId.get(ref.clientOrderId);
    return undefined;
  }

  private takeId(): string {
    return (this.nextId++).toString();
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) l(e);
  }

  private levelsFor(m: Market, o: OrderState): Dec[] {
    return o.side === 'buy' ? m.askLevels : m.bidLevels;
  }

  private within(o: OrderState, levelPrice: Dec): boolean {
    if (o.price === undefined) return true;
    return o.side === 'buy' ? levelPrice.lte(o.price) : levelPrice.gte(o.price);
  }

  private crossesSynthetic(m: Market, o: OrderState): boolean {
    const best = this.levelsFor(m, o)[0];
    return best !== undefined && this.within(o, best);
  }

  private fullyFillable(m: Market, o: OrderState): boolean {
    let qty = ZERO;
    let quote = ZERO;
    for (const p of this.levelsFor(m, o)) {
      if (!this.within(o, p)) break;
      qty = qty.plus(m.levelQty);
      quote = quote.plus(m.levelQty.mul(p));
    }
    return o.quoteQty !== undefined ? quote.gte(o.quoteQty) : qty.gte(o.qty);
  }

  /** Base quantity a quote-sized order can still trade at `price` (step aligned). */
  private affordable(m: Market, o: OrderState, price: Dec): Dec {
    return floorToStep(o.quoteQty!.minus(o.cumQuote).div(price), m.step);
  }

  private takeLiquidity(m: Market, o: OrderState): void {
    for (const levelPrice of this.levelsFor(m, o)) {
      if (o.status === 'filled' || !this.within(o, levelPrice)) break;
      const want = o.quoteQty !== undefined ? this.affordable(m, o, levelPrice) : o.qty.minus(o.cumQty);
      const take = Dec.min(want, m.levelQty);
      if (take.lte(0)) break;
      for (const slice of this.slices(take, m.step)) this.fill(o, slice, levelPrice, false);
    }
  }

  private slices(qty: Dec, step: Dec): Dec[] {
    const n = this.fillSlices;
    if (n <= 1) return [qty];
    const piece = floorToStep(qty.div(n), step);
    if (piece.isZero()) return [qty];
    const out: Dec[] = [];
    for (let i = 1; i < n; i++) out.push(piece);
    out.push(qty.minus(piece.mul(n - 1)));
    return out;
  }

  private fill(o: OrderState, qty: Dec, price: Dec, isMaker: boolean): SimFill {
    const m = this.markets.get(o.symbol)!;
    const quote = qty.mul(price);
    const rate = isMaker ? this.makerFee : this.takerFee;
    const fee = o.side === 'buy' ? qty.mul(rate) : quote.mul(rate);
    o.cumQty = o.cumQty.plus(qty);
    o.cumQuote = o.cumQuote.plus(quote);
    o.fee = o.fee.plus(fee);
    const complete = o.quoteQty !== undefined ? this.affordable(m, o, price).isZero() : o.cumQty.gte(o.qty);
    o.status = complete ? 'filled' : 'partially_filled';
    o.updatedAt = this.clock();
    if (complete) this.retire(o);
    const f: SimFill = {
      tradeId: this.takeId(),
      execId: this.takeId(),
      orderId: o.id,
      clientOrderId: o.clientOrderId,
      account: o.account,
      symbol: o.symbol,
      side: o.side,
      qty: qty.toFixed(),
      price: price.toFixed(),
      quoteQty: quote.toFixed(),
      fee: fee.toFixed(),
      feeAsset: o.feeAsset,
      isMaker,
      time: o.updatedAt,
    };
    o.fills.push(f);
    this.accounts.get(o.account)!.fills.push(f);
    this.emit({ type: 'fill', order: this.snapshot(o), fill: f });
    return f;
  }

  private reject(o: OrderState, reason: SimRejectReason): PlaceResult {
    o.status = 'rejected';
    o.rejectReason = reason;
    this.retire(o);
    const order = this.snapshot(o);
    this.emit({ type: 'rejected', order, reason });
    return { ok: true, order };
  }

  private finish(o: OrderState, status: 'canceled' | 'expired'): void {
    o.status = status;
    o.updatedAt = this.clock();
    this.retire(o);
    this.emit({ type: status, order: this.snapshot(o) });
  }

  /** Note a finished order; forget the oldest finished ones beyond maxFinishedOrders. */
  private retire(o: OrderState): void {
    this.finished.push(o);
    while (this.finished.length - this.finishedHead > this.maxFinished) {
      const old = this.finished[this.finishedHead++];
      this.orders.delete(old.id);
      const acct = this.accounts.get(old.account)!;
      if (acct.byClientId.get(old.clientOrderId) === old) acct.byClientId.delete(old.clientOrderId);
      let drop = 0;
      while (drop < acct.fills.length && !this.orders.has(acct.fills[drop].orderId)) drop++;
      if (drop > 0) acct.fills.splice(0, drop);
    }
    if (this.finishedHead > 4096 && this.finishedHead * 2 > this.finished.length) {
      this.finished = this.finished.slice(this.finishedHead);
      this.finishedHead = 0;
    }
  }

  private rest(m: Market, o: OrderState, acct: AccountState): void {
    const book = o.side === 'buy' ? m.bids : m.asks;
    const price = o.price!;
    // First index whose price is strictly worse than ours: we queue behind equal prices.
    let lo = 0;
    let hi = book.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = book[mid].price!;
      const worse = o.side === 'buy' ? p.lt(price) : p.gt(price);
      if (worse) hi = mid;
      else lo = mid + 1;
    }
    book.splice(lo, 0, o);
    o.resting = true;
    acct.open.set(o.id, o);
  }

  /** Take an order off the book: O(1) now, the array entry is dropped lazily. */
  private unrest(o: OrderState): void {
    const m = this.markets.get(o.symbol)!;
    o.resting = false;
    this.accounts.get(o.account)!.open.delete(o.id);
    m.stale++;
    if (m.stale > 1024 && m.stale * 2 > m.bids.length + m.asks.length) {
      m.bids = m.bids.filter((x) => x.resting);
      m.asks = m.asks.filter((x) => x.resting);
      m.stale = 0;
    }
  }

  private snapshot(o: OrderState): SimOrder {
    const terminal = TERMINAL.has(o.status);
    return {
      orderId: o.id,
      account: o.account,
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      timeInForce: o.tif,
      postOnly: o.postOnly,
      qty: o.qtyText,
      quoteQty: o.quoteQty?.toFixed(),
      price: o.price?.toFixed(),
      status: o.status,
      cumQty: o.cumQty.toFixed(),
      cumQuote: o.cumQuote.toFixed(),
      avgPrice: o.cumQty.isZero() ? '0' : o.cumQuote.div(o.cumQty).toDecimalPlaces(12).toFixed(),
      leavesQty: terminal || o.quoteQty !== undefined ? '0' : o.qty.minus(o.cumQty).toFixed(),
      fee: o.fee.toFixed(),
      feeAsset: o.feeAsset,
      rejectReason: o.rejectReason,
      resting: o.resting,
      createdAt: o.createdAt,
      updatedAt: o.updatedAt,
    };
  }
}
