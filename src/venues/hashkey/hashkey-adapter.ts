// HashKey Global spot behind the one VenueAdapter interface: REST client (orders / queries,
// rate-limited) + user-data stream (executionReport → OrderEvent). No FIX knowledge here.

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
import { HASHKEY_CANCEL_PENDING_WORDS, HASHKEY_CAPABILITIES, HASHKEY_CLIENT_ORDER_ID_MAX_LENGTH, HASHKEY_DEFAULTS, HASHKEY_VENUE_NAME, hashKeyAbsenceProofMs } from './hashkey-constants';
import { eventsFromExecutionReport, HashKeyMappingOptions } from './hashkey-mapping';
import { HashKeyLogger, HashKeyRestClient, silentLogger } from './hashkey-rest-client';
import { HashKeyStreamMessage, HashKeyUserStream, HashKeyUserStreamOptions } from './hashkey-user-stream';

export interface HashKeyAdapterOptions {
  /** e.g. killedIocAsExpired: report a killed IOC/FOK remainder as expired (150=C). */
  mapping?: HashKeyMappingOptions;
  /** Stream timings (ping, pong timeout, keep-alive, back-off); defaults follow hashkey.md. */
  stream?: Omit<HashKeyUserStreamOptions, 'rest' | 'wsUrl' | 'logger'>;
  recvWindowMs?: number;
  maxSockets?: number;
}

/** pino-compatible: a logger with child() gets a `venue` binding. */
type MaybeChildLogger = HashKeyLogger & { child?: (bindings: object) => HashKeyLogger };

export class HashKeyAdapter implements VenueAdapter {
  readonly name = HASHKEY_VENUE_NAME;
  readonly capabilities: VenueCapabilities;

  /** Exposed for tests and diagnostics (limiter state); the gateway uses the interface only. */
  readonly rest: HashKeyRestClient;
  private readonly stream: HashKeyUserStream;
  private readonly log: HashKeyLogger;
  private readonly mapping: HashKeyMappingOptions;
  private readonly eventListeners: ((e: OrderEvent) => void)[] = [];
  private instrumentList: Instrument[] | undefined;
  private started = false;

  constructor(config: VenueConfig, logger?: MaybeChildLogger, options: HashKeyAdapterOptions = {}) {
    this.log = logger?.child ? logger.child({ venue: HASHKEY_VENUE_NAME }) : (logger ?? silentLogger);
    this.mapping = options.mapping ?? {};
    this.capabilities = { ...HASHKEY_CAPABILITIES, absenceProofMs: hashKeyAbsenceProofMs(options.recvWindowMs ?? HASHKEY_DEFAULTS.recvWindowMs) };
    // The config holds the api secret: it goes to the signer only, never to a log.
    this.rest = new HashKeyRestClient({
      restUrl: config.restUrl,
      apiKey: config.apiKey,
      apiSecret: config.apiSecret,
      requestTimeoutMs: config.requestTimeoutMs,
      rateLimits: config.rateLimits,
      recvWindowMs: options.recvWindowMs,
      maxSockets: options.maxSockets,
      logger: this.log,
      mapping: this.mapping,
    });
    this.stream = new HashKeyUserStream({ ...(options.stream ?? {}), rest: this.rest, wsUrl: config.wsUrl, logger: this.log });
    this.stream.onMessage((m) => this.onStreamMessage(m));
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.instrumentList = await this.rest.exchangeInfo();
    await this.stream.start();
    this.started = true;
    this.log.info({ instruments: this.instrumentList.length }, 'hashkey adapter started');
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.stream.stop();
    this.rest.close();
  }

  async instruments(): Promise<Instrument[]> {
    if (!this.instrumentList) this.instrumentList = await this.rest.exchangeInfo();
    return this.instrumentList;
  }

  placeOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    const max = HASHKEY_CLIENT_ORDER_ID_MAX_LENGTH;
    if (req.clientOrderId === undefined || req.clientOrderId.length === 0 || req.clientOrderId.length > max) {
      return Promise.reject(new OrderRejected('invalid_order', `client order id must be 1..${max} characters`));
    }
    return this.rest.createOrder(req);
  }

  /** 200 while still NEW / PARTIALLY_FILLED / PENDING_CANCEL → pending_cancel; CANCELED → canceled. */
  async cancelOrder(ref: OrderRef): Promise<CancelResult> {
    const order = await this.rest.cancelOrder(ref);
    if (order.status === 'canceled' || order.status === 'expired') return { status: 'canceled', order };
    if (order.status === 'filled' || order.status === 'rejected') {
      throw new OrderRejected('too_late', `HashKey: order already ${order.rawStatus}`, order.rawStatus, order.rawStatus);
    }
    if (!HASHKEY_CANCEL_PENDING_WORDS.has(order.rawStatus)) {
      this.log.warn({ rawStatus: order.rawStatus, clientOrderId: ref.clientOrderId }, 'hashkey cancel reply with an unknown status word');
    }
    return { status: 'pending_cancel', order };
  }

  /** The order and, when it has executions, its fills from the trades endpoint (fillId = ticketId). */
  async getOrder(ref: OrderRef): Promise<VenueOrder> {
    const order = await this.rest.getOrder(ref);
    order.fills = new Decimal(order.filledQty || '0').isZero()
      ? []
      : await this.rest.orderTrades({ clientOrderId: order.clientOrderId, venueOrderId: order.venueOrderId, symbol: order.symbol });
    return order;
  }

  openOrders(): Promise<VenueOrder[]> {
    return this.rest.openOrders();
  }

  onEvent(listener: (event: OrderEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onStreamState(listener: (state: StreamState) => void): void {
    this.stream.onState(listener);
  }

  private onStreamMessage(m: HashKeyStreamMessage): void {
    const events = eventsFromExecutionReport(m, this.mapping);
    for (const e of events) {
      for (const l of this.eventListeners) {
        try {
          l(e);
        } catch (err) {
          this.log.error({ error: (err as Error)?.name, message: String((err as Error)?.message ?? '') }, 'hashkey event listener threw');
        }
      }
    }
  }
}
