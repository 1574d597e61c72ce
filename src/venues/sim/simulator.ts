// What every venue simulator shares: its start options, the handle a running simulator returns,
// the instrument definition, the default instruments, and the per-key request limiter. Venue
// neutral: a simulator file (`src/venues/<venue>/<venue>-simulator.ts`) adds only its wire format.

import type { FaultInjector } from './fault-injector';
import type { MatchingEngine } from './matching-engine';

/** How the synthetic market maker quotes one instrument. */
export interface SimLiquidity {
  /** Price levels per side. */
  depth: number;
  /** Quantity (base, decimal string) offered at each level. */
  levelQty: string;
  /** Distance between levels, in ticks: level k is at referencePrice ± k·tickSize·spreadTicks. */
  spreadTicks: number;
}

export interface SimInstrument {
  symbol: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  minNotional?: string;
  /** Mid price the synthetic market maker quotes around. */
  referencePrice: string;
  /** Derived from the symbol's quote suffix (USDT, USDC, USD, BTC, ETH, ...) when absent. */
  baseAsset?: string;
  quoteAsset?: string;
  /** Defaults: depth 5, spreadTicks 1, levelQty = stepSize × 100000. */
  liquidity?: Partial<SimLiquidity>;
}

export const DEFAULT_SIM_INSTRUMENTS: readonly SimInstrument[] = [
  { symbol: 'BTCUSDT', tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001', referencePrice: '60000' },
  { symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', referencePrice: '3000' },
  { symbol: 'SOLUSDT', tickSize: '0.001', stepSize: '0.001', minQty: '0.001', referencePrice: '150' },
];

export interface SimLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SimulatorOptions {
  host?: string; // default 127.0.0.1
  port?: number; // 0 = ephemeral
  /** `account`: the account the venue names (Apifiny accountId `STA-…`, Coinut username) where it has one. */
  credentials: { apiKey: string; apiSecret: string; account?: string }[];
  rateLimits?: { ordersPerSecond: number; queriesPerSecond: number };
  instruments?: SimInstrument[];
  streamPingIntervalMs?: number;
  /** Delay before CANCELED is pushed after a cancel is accepted. */
  cancelConfirmDelayMs?: number;
  logger?: SimLogger;
  /** Venue clock in ms (tests pin it to check fixed signature vectors). Default Date.now. */
  clock?: () => number;
}

export interface RunningSimulator {
  /** The venue's REST base URL as its notes list it, only scheme/host/port changed (`http://127.0.0.1:P/v2`). */
  restUrl: string;
  /** The venue's WS base URL as its notes list it, only scheme/host/port changed (`ws://127.0.0.1:P/connect`). */
  wsUrl: string;
  port: number;
  engine: MatchingEngine;
  faults: FaultInjector;
  /** Closes HTTP + WS and all sockets promptly. */
  close(): Promise<void>;
}

export const NOOP_LOGGER: SimLogger = { info() {}, warn() {} };

/**
 * Exact sliding one-second window: admits a request when fewer than `perSecond` were admitted in
 * the last 1000 ms. A ring of the last `perSecond` admission times, so O(1) per request.
 */
class SlidingWindow {
  private readonly times: Float64Array;
  private next = 0;

  constructor(perSecond: number) {
    this.times = new Float64Array(Math.max(1, Math.floor(perSecond))).fill(-Infinity);
  }

  tryTake(now: number): boolean {
    // The slot we would overwrite holds the admission `perSecond` requests ago.
    if (now - this.times[this.next] < 1000) return false;
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.times.length;
    return true;
  }
}

export type RateClass = 'orders' | 'queries';

/** Per-API-key request limits, as venues publish them ("10 order requests/s per key"). */
export class PerKeyRateLimiter {
  private windows = new Map<string, SlidingWindow>();

  constructor(private limits: { ordersPerSecond: number; queriesPerSecond: number }) {}

  setLimits(limits: { ordersPerSecond: number; queriesPerSecond: number }): void {
    this.limits = limits;
    this.windows.clear();
  }

  /** True when the request is admitted (and counted). */
  take(key: string, cls: RateClass, now: number): boolean {
    const id = cls + '\u0000' + key;
    let w = this.windows.get(id);
    if (w === undefined) {
      w = new SlidingWindow(cls === 'orders' ? this.limits.ordersPerSecond : this.limits.queriesPerSecond);
      this.windows.set(id, w);
    }
    return w.tryTake(now);
  }
}
