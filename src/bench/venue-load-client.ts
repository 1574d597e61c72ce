// The venue alone, for the same-run comparison (issue 9): the HashKey simulator child driven
// directly with signed REST creates over HTTP keep-alive, through the same HashKeyRestClient the
// gateway's adapter uses (same signing, HTTP pool and rate limiter settings as a gateway session on
// a simulator), at the same phases as the FIX client (windowed, one at a time, paced). Latency =
// from the create call to its parsed reply; every reply must be an accepted (NEW) order.
import { performance } from 'perf_hooks';
import { HashKeyRestClient } from '../venues/hashkey/hashkey-rest-client';
import { HASHKEY_RATE_LIMITS } from '../venues/hashkey/hashkey-constants';
import { SIMULATOR_RATE_LIMITS, VENUES } from '../venues/registry';
import { perSecondLimits } from '../venues/common/rate-limiter';
import { PlaceOrderRequest } from '../venues/venue';
import { Phase, withTimeout } from './fix-load-client';

export class VenueLoadClient {
  private readonly rest: HashKeyRestClient;
  readonly problems: string[] = [];
  problemCount = 0;

  constructor(
    restUrl: string,
    /** The order's content; the client order id is filled in per order. */
    private readonly order: Omit<PlaceOrderRequest, 'clientOrderId'>,
    /** Makes client order ids unique per simulator (the venue refuses a reused one). */
    private readonly idPrefix: string,
  ) {
    const creds = VENUES.hashkey.simulatorCredentials;
    this.rest = new HashKeyRestClient({
      restUrl,
      apiKey: creds.apiKey,
      apiSecret: creds.apiSecret!,
      rateLimits: perSecondLimits({ ...SIMULATOR_RATE_LIMITS, maxQueue: HASHKEY_RATE_LIMITS.maxQueue }),
    });
  }

  newPhase(name: string, tag: string, count: number): Phase {
    return {
      name,
      tag,
      count,
      sentAt: new Float64Array(count),
      latency: new Float64Array(count),
      answered: 0,
      sent: 0,
      firstSend: 0,
      firstReply: 0,
      lastReply: 0,
      lastSend: 0,
    };
  }

  private problem(text: string): void {
    this.problemCount++;
    if (this.problems.length < 20) this.problems.push(text);
  }

  /** Sends order i of the phase; `done` runs when it is answered (or failed). */
  private sendOne(p: Phase, done: () => void): void {
    const i = p.sent++;
    const now = performance.now();
    if (i === 0) p.firstSend = now;
    p.sentAt[i] = now;
    p.lastSend = now;
    this.rest.createOrder({ ...this.order, clientOrderId: `${this.idPrefix}${p.tag}${i}` }).then(
      (o) => {
        const t = performance.now();
        p.latency[i] = t - p.sentAt[i];
        if (p.answered++ === 0) p.firstReply = t;
        p.lastReply = t;
        if (o.status !== 'new') this.problem(`${p.tag}${i}: venue status ${o.status}, expected new`);
        done();
      },
      (err: Error) => {
        this.problem(`${p.tag}${i}: ${err.name}: ${err.message}`);
        p.answered++;
        done();
      },
    );
  }

  /** At most `window` creates outstanding (0 = all at once) until all are answered. */
  runWindowed(p: Phase, window: number, timeoutMs: number): Promise<void> {
    const run = new Promise<void>((resolve) => {
      const next = (): void => {
        if (p.answered === p.count) return resolve();
        while (p.sent < p.count && (window === 0 || p.sent - p.answered < window)) this.sendOne(p, next);
      };
      next();
    });
    return withTimeout(run, timeoutMs, `${p.name}: all ${p.count} venue replies`);
  }

  /** Open loop at `rate` creates/s. */
  runPaced(p: Phase, rate: number, timeoutMs: number): Promise<{ maxLagMs: number }> {
    let maxLagMs = 0;
    const run = new Promise<void>((resolve) => {
      const start = performance.now();
      const answered = (): void => {
        if (p.answered === p.count) resolve();
      };
      const tick = (): void => {
        const now = performance.now();
        const due = Math.min(p.count, Math.floor(((now - start) * rate) / 1000) + 1);
        if (due > p.sent) maxLagMs = Math.max(maxLagMs, now - (start + (p.sent * 1000) / rate));
        while (p.sent < due) this.sendOne(p, answered);
        if (p.sent < p.count) setTimeout(tick, Math.max(0, start + (p.sent * 1000) / rate - performance.now() - 0.05));
      };
      tick();
    });
    return withTimeout(run, timeoutMs, `${p.name}: all ${p.count} venue replies`).then(() => ({ maxLagMs }));
  }

  close(): void {
    this.rest.close();
  }
}
