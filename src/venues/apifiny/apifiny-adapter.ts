// Apifiny Connect behind the VenueAdapter interface, as far as venue.ts allows today. No FIX
// knowledge here.
//
// - One session trades on one exchange (`exchange`): the one its URLs name, or the configured one
//   for a co-located host; a mismatch fails construction (a start-up error). The gateway compares
//   ExDestination (100) with it.
// - The client order id IS the Apifiny `orderId`: the gateway allocates it (clientOrderIdFor with
//   its durable (ms, seq) counter and the session tag) and passes it in; a malformed one is refused
//   here before it reaches the venue.
// - A cancel refused while PENDING_SUBMIT (328026) is retried here until the order is SUBMITTED
//   (woken by its push, else on a short back-off) for up to cancelRetryWindowMs; after that the
//   CancelNotYetPossible error goes to the gateway, never a "too late".
// - Fills carry no id: events carry the cumulative quantity and a fill id (orderId, cumulative).

import Decimal from 'decimal.js';
import {
  CancelResult,
  Instrument,
  OrderEvent,
  OrderRef,
  OrderRejected,
  PlaceOrderRequest,
  StreamState,
  VenueAdapter,
  VenueCapabilities,
  VenueConfig,
  VenueOrder,
} from '../venue';
import { ApifinyCredentials } from './apifiny-auth';
import { APIFINY_DEFAULTS, APIFINY_STATUS, APIFINY_VENUE_NAME, apifinyAbsenceProofMs, apifinyCapabilities, exchangeFromRestUrl, resolveApifinyExchange } from './apifiny-constants';
import { ApifinyMappingOptions, apifinyPushPayload, CancelNotYetPossible, eventsFromApifinyPush } from './apifiny-mapping';
import { APIFINY_SESSION_DIGITS, allocateApifinyOrderId, apifinyOrderIdProblem, apifinySessionDigits, maxApifinySessionTagLength } from './apifiny-order-id';
import { ApifinyLogger, ApifinyRestClient, silentApifinyLogger } from './apifiny-rest-client';
import { ApifinyStream, ApifinyStreamOptions } from './apifiny-stream';

export interface ApifinyAdapterOptions {
  /** The exchange for a co-located URL; overrides VenueConfig.exDestination (VenueExDestination). Must agree with the URLs when they name one. */
  exchange?: string;
  jwtLifetimeSeconds?: number;
  mapping?: ApifinyMappingOptions;
  /** How long a cancel refused with 328026 (PENDING_SUBMIT) is retried. Default 5000 ms. */
  cancelRetryWindowMs?: number;
  stream?: Omit<ApifinyStreamOptions, 'wsUrl' | 'credentials' | 'logger' | 'jwtLifetimeSeconds'>;
  maxSockets?: number;
}

type MaybeChildLogger = ApifinyLogger & { child?: (bindings: object) => ApifinyLogger };

const CANCEL_RETRY_FIRST_MS = 25;
const CANCEL_RETRY_MAX_MS = 400;

export class ApifinyAdapter implements VenueAdapter {
  readonly name = APIFINY_VENUE_NAME;
  readonly capabilities: VenueCapabilities;
  /** The exchange every request routes to (`venue`); the gateway checks ExDestination against it. Not in venue.ts yet. */
  readonly exchange: string;
  readonly accountId: string;
  /**
   * How long a request we sent can still take effect: its JWT expires after this. After an unknown
   * outcome, "not found" proves absence only once this (plus clock skew) has passed. Not in venue.ts yet.
   */
  readonly requestValidityMs: number;

  readonly rest: ApifinyRestClient;
  private readonly stream: ApifinyStream;
  private readonly log: ApifinyLogger;
  private readonly mapping: ApifinyMappingOptions;
  private readonly cancelRetryWindowMs: number;
  private readonly eventListeners: ((e: OrderEvent) => void)[] = [];
  /** Cancels waiting for an order to leave PENDING_SUBMIT, by orderId. */
  private readonly submitWaiters = new Map<string, Set<() => void>>();
  private instrumentList: Instrument[] | undefined;
  private started = false;

  constructor(config: VenueConfig, logger?: MaybeChildLogger, options: ApifinyAdapterOptions = {}) {
    this.log = logger?.child ? logger.child({ venue: APIFINY_VENUE_NAME }) : (logger ?? silentApifinyLogger);
    if (!config.account) throw new Error('Apifiny needs the account id (VenueAccount, like STA-00000001)');
    const resolved = resolveApifinyExchange(config.restUrl, config.wsUrl, options.exchange ?? config.exDestination);
    if (!resolved.ok) throw new Error(`Apifiny: ${resolved.problem}`);
    this.exchange = resolved.exchange;
    this.accountId = config.account;
    // Fails here (start-up) when the account id has no digits to start order ids with.
    maxApifinySessionTagLength(this.accountId);
    this.mapping = options.mapping ?? {};
    this.cancelRetryWindowMs = options.cancelRetryWindowMs ?? 5_000;
    const jwtLifetimeSeconds = options.jwtLifetimeSeconds ?? APIFINY_DEFAULTS.jwtLifetimeSeconds;
    this.requestValidityMs = jwtLifetimeSeconds * 1000;
    this.capabilities = { ...apifinyCapabilities(this.exchange), absenceProofMs: apifinyAbsenceProofMs(jwtLifetimeSeconds) };
    // The secret goes to the signer only, never to a log.
    const credentials: ApifinyCredentials = { accountId: config.account, secretKeyId: config.apiKey, secret: config.apiSecret };
    const urlExchange = exchangeFromRestUrl(config.restUrl);
    this.rest = new ApifinyRestClient({
      restUrl: config.restUrl,
      credentials,
      exchange: this.exchange,
      urlNamesExchange: urlExchange.ok && urlExchange.exchange !== undefined,
      requestTimeoutMs: config.requestTimeoutMs,
      rateLimits: config.rateLimits,
      jwtLifetimeSeconds,
      maxSockets: options.maxSockets,
      mapping: this.mapping,
      logger: this.log,
    });
    this.stream = new ApifinyStream({
      ...(options.stream ?? {}),
      wsUrl: config.wsUrl,
      credentials,
      jwtLifetimeSeconds,
      logger: this.log,
      // The stream's token expires by the venue's clock, as the REST client measures it.
      now: () => this.rest.venueNow(),
      onAuthRefused: () => this.rest.resyncClock(),
    });
    this.stream.onPush((frame) => this.onPush(frame));
  }

  /**
   * VenueAdapter.clientOrderIdFor: the Apifiny orderId for the gateway's durable sequence
   * (ms × 1000 + a counter within the ms) and the session's tag (turned into digits, see
   * apifinySessionDigits). See apifiny-order-id.ts for the rule.
   */
  clientOrderIdFor(sessionTag: string, sequence: number): string {
    const digits = apifinySessionDigits(sessionTag, Math.min(APIFINY_SESSION_DIGITS, maxApifinySessionTagLength(this.accountId)));
    return allocateApifinyOrderId(this.accountId, digits, Math.floor(sequence / 1000), sequence % 1000);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.instrumentList = await this.rest.listSymbolInfo();
    // The stream's upgrade is the first signed request: its token's exp must count from the
    // venue's clock (a venue ahead of us by more than the token's life refuses it).
    await this.rest.resyncClock().catch((err) => this.log.warn({ error: (err as Error)?.name, code: (err as { code?: unknown })?.code }, 'apifiny server time: sync at start failed; signing with our clock'));
    await this.stream.start();
    this.started = true;
    this.log.info({ exchange: this.exchange, instruments: this.instrumentList.length }, 'apifiny adapter started');
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const waiters of this.submitWaiters.values()) for (const w of waiters) w();
    this.submitWaiters.clear();
    await this.stream.stop();
    this.rest.close();
  }

  async instruments(): Promise<Instrument[]> {
    if (!this.instrumentList) this.instrumentList = await this.rest.listSymbolInfo();
    return this.instrumentList;
  }

  /** newOrder with our orderId; resolves with the order, usually pending_new (PENDING_SUBMIT). */
  placeOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    if (req.clientOrderId === undefined) return Promise.reject(new OrderRejected('invalid_order', 'Apifiny needs our orderId (clientOrderIdFor)'));
    const problem = apifinyOrderIdProblem(req.clientOrderId, this.accountId);
    if (problem !== undefined) {
      return Promise.reject(new OrderRejected('invalid_order', `Apifiny order id ${JSON.stringify(req.clientOrderId)} breaks the venue's rule: ${problem}`));
    }
    return this.rest.newOrder(req);
  }

  /**
   * cancelOrder. CANCELLED / PART_FILLED in the reply → canceled; still SUBMITTED → pending_cancel
   * (the final state is pushed). While PENDING_SUBMIT (328026) the cancel is retried as above.
   */
  async cancelOrder(ref: OrderRef): Promise<CancelResult> {
    const orderId = apifinyOrderIdOf(ref);
    const deadline = Date.now() + this.cancelRetryWindowMs;
    let delay = CANCEL_RETRY_FIRST_MS;
    for (;;) {
      try {
        const order = await this.rest.cancelOrder(orderId);
        if (order.status === 'canceled' || order.status === 'expired') return { status: 'canceled', order };
        if (order.status === 'filled' || order.status === 'rejected') {
          throw new OrderRejected('too_late', `Apifiny: order already ${order.rawStatus}`, order.rawStatus, order.rawStatus);
        }
        return { status: 'pending_cancel', order };
      } catch (err) {
        const left = deadline - Date.now();
        if (!(err instanceof CancelNotYetPossible) || left <= 0 || !this.started) throw err;
        this.log.debug({ orderId, retryInMs: Math.min(delay, left) }, 'apifiny cancel while PENDING_SUBMIT: retrying once submitted');
        await this.waitForSubmit(orderId, Math.min(delay, left));
        delay = Math.min(delay * 2, CANCEL_RETRY_MAX_MS);
      }
    }
  }

  /** queryOrderInfo by our orderId, with its fills (listFilledOrder) when it has any. */
  async getOrder(ref: OrderRef): Promise<VenueOrder> {
    const order = await this.rest.queryOrderInfo(apifinyOrderIdOf(ref));
    order.fills = new Decimal(order.filledQty || '0').isZero() ? [] : await this.rest.listFilledOrder(order.venueOrderId);
    return order;
  }

  openOrders(): Promise<VenueOrder[]> {
    return this.rest.listOpenOrder();
  }

  onEvent(listener: (event: OrderEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onStreamState(listener: (state: StreamState) => void): void {
    this.stream.onState(listener);
  }

  private onPush(frame: unknown): void {
    const payload = apifinyPushPayload(frame);
    if (payload !== undefined && payload.orderStatus !== APIFINY_STATUS.pendingSubmit) this.wakeSubmitWaiters(String(payload.orderId));
    for (const e of eventsFromApifinyPush(frame, this.mapping)) {
      for (const l of this.eventListeners) {
        try {
          l(e);
        } catch (err) {
          this.log.error({ error: (err as Error)?.name, message: String((err as Error)?.message ?? '') }, 'apifiny event listener threw');
        }
      }
    }
  }

  private waitForSubmit(orderId: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let waiters = this.submitWaiters.get(orderId);
      if (waiters === undefined) {
        waiters = new Set();
        this.submitWaiters.set(orderId, waiters);
      }
      const done = () => {
        clearTimeout(timer);
        const set = this.submitWaiters.get(orderId);
        set?.delete(done);
        if (set?.size === 0) this.submitWaiters.delete(orderId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  private wakeSubmitWaiters(orderId: string): void {
    const waiters = this.submitWaiters.get(orderId);
    if (waiters) for (const w of [...waiters]) w();
  }
}

/** Our orderId is the handle (it is also what venueOrderId carries once known). */
function apifinyOrderIdOf(ref: OrderRef): string {
  const id = ref.venueOrderId ?? ref.clientOrderId;
  if (id === undefined) throw new OrderRejected('invalid_order', 'Apifiny order reference without an orderId');
  return id;
}
