// Everything the admin endpoint needs, in one object start-up hands around: the metrics, the
// sessions and venue monitors it reports on, readiness, and the HTTP server. Built only when
// sessions.cfg sets HttpAcceptPort; without it no hook is installed and nothing is counted.
import type { Logger } from 'pino';
import type { JournalStats } from '../durable/journal';
import type { SessionConfig } from '../fix/config/session-settings';
import type { SessionObserver, SessionStatus } from '../fix/session-observer';
import type { AcceptorObserver } from '../fix/acceptor';
import { AdminServer, Readiness } from './admin-server';
import { GatewayMetrics } from './metrics';
import { StatusSnapshot } from './status-page';
import { VenueMonitor } from './venue-monitor';

/** Seconds between reloads of the status page. */
const PAGE_REFRESH_SECONDS = 5;

interface WatchedSession {
  cfg: SessionConfig;
  status(): SessionStatus;
}

export class AdminEndpoint {
  readonly metrics: GatewayMetrics;
  private readonly sessions: WatchedSession[] = [];
  private readonly venues: VenueMonitor[] = [];
  private acceptorListening = false;
  private readonly server: AdminServer;
  private bound?: { host: string; port: number };

  constructor(
    private readonly settings: { host: string; port: number },
    private readonly logger: Logger,
  ) {
    this.metrics = new GatewayMetrics({
      sessionsLoggedOn: () => this.sessions.map((s) => ({ session: s.cfg.sessionId, loggedOn: s.status().loggedOn })),
      venues: () =>
        this.venues.map((v) => {
          const st = v.status();
          return { session: v.session, venue: v.venue, ready: st.ready, streamConnected: st.stream === 'connected', queued: st.queued };
        }),
    });
    this.server = new AdminServer(
      {
        metricsText: () => this.metrics.text(),
        metricsContentType: this.metrics.contentType,
        readiness: () => this.readiness(),
        snapshot: () => this.snapshot(),
      },
      logger,
    );
  }

  async start(): Promise<{ host: string; port: number }> {
    try {
      this.bound = await this.server.listen(this.settings.host, this.settings.port);
    } catch (err) {
      throw new Error(`admin endpoint (HttpAcceptHost/HttpAcceptPort ${this.settings.host}:${this.settings.port}): ${(err as Error).message}`);
    }
    this.logger.info({ host: this.bound.host, port: this.bound.port, url: this.url }, 'admin endpoint listening');
    return this.bound;
  }

  /** `http://host:port/` once listening. */
  get url(): string | undefined {
    if (!this.bound) return undefined;
    const h = this.bound.host.includes(':') ? `[${this.bound.host}]` : this.bound.host;
    return `http://${h}:${this.bound.port}/`;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  // ------------------------------------------------------------------ hooks for start-up

  /** For FixAcceptor: refused logons in /metrics. */
  acceptorObserver(): AcceptorObserver {
    return this.metrics.acceptorObserver();
  }

  /** For FixSessionDeps.observer. */
  sessionObserver(cfg: SessionConfig): SessionObserver {
    return this.metrics.sessionObserver(cfg.sessionId);
  }

  /** Shows the session on the page and in the gauges, and times its store's writes. */
  watchSession(cfg: SessionConfig, session: { status(): SessionStatus }, storeStats?: JournalStats): void {
    this.sessions.push({ cfg, status: () => session.status() });
    if (storeStats) storeStats.onWrite = this.metrics.storeFlushObserver(cfg.sessionId, 'session');
  }

  /** The monitor of a gateway session's venue (wraps the adapter, watches limits, hears the gateway). */
  venueMonitor(cfg: SessionConfig, venueName: string): VenueMonitor {
    const m = new VenueMonitor(this.metrics, cfg.sessionId, venueName, cfg.venue?.environment ?? '');
    this.venues.push(m);
    return m;
  }

  /** Times a gateway session's order book writes. */
  watchOrderBook(cfg: SessionConfig, stats: JournalStats): void {
    stats.onWrite = this.metrics.storeFlushObserver(cfg.sessionId, 'orders');
  }

  setAcceptorListening(listening: boolean): void {
    this.acceptorListening = listening;
  }

  // ------------------------------------------------------------------ what the endpoint serves

  readiness(): Readiness {
    const reasons: string[] = [];
    if (!this.acceptorListening) reasons.push('FIX acceptor not listening');
    for (const v of this.venues) {
      const st = v.status();
      if (st.ready) continue;
      const why = !st.started ? `not started${st.lastError ? ` (${st.lastError})` : ''}` : `stream ${st.stream ?? 'not connected yet'}`;
      reasons.push(`venue ${v.venue} (${v.session}): ${why}`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  snapshot(): StatusSnapshot {
    return {
      now: Date.now(),
      ready: this.readiness(),
      sessions: this.sessions.map((s) => ({
        id: s.cfg.sessionId,
        application: s.cfg.application,
        venue: s.cfg.venue ? `${s.cfg.venue.name} (${s.cfg.venue.environment})` : undefined,
        endpoint: `${s.cfg.acceptHost}:${s.cfg.acceptPort}`,
        status: s.status(),
      })),
      venues: this.venues.map((v) => v.status()),
      rejects: this.metrics.rejects.list(),
      refreshSeconds: PAGE_REFRESH_SECONDS,
    };
  }
}
