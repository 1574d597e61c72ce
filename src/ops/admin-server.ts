// The admin HTTP endpoint (HttpAcceptPort): `/metrics` (Prometheus text), `/health` (the process
// serves), `/ready` (the acceptor listens and every venue is ready; 503 with the reasons otherwise)
// and `/` (the status page). Read-only: GET and HEAD only, nothing it serves changes any state.
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Logger } from 'pino';
import { renderStatusPage, StatusSnapshot } from './status-page';

export interface Readiness {
  ready: boolean;
  /** Why not, one line each. */
  reasons: string[];
}

export interface AdminSource {
  metricsText(): Promise<string>;
  metricsContentType: string;
  readiness(): Readiness;
  snapshot(): StatusSnapshot;
}

/** Nothing to be framed or sniffed, and the page runs no script even if escaping ever failed. */
const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'";

export class AdminServer {
  private readonly server: http.Server;

  constructor(
    private readonly source: AdminSource,
    private readonly logger: Logger,
  ) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        this.logger.error({ err: (err as Error)?.message ?? String(err), url: req.url }, 'admin request failed');
        if (!res.headersSent) this.send(res, req, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    });
    // A slow or idle client must not hold a socket for long.
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listens; resolves with the bound address (port 0 = ephemeral). */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address() as AddressInfo;
        resolve({ host, port: a.port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      this.send(res, req, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/metrics':
        this.send(res, req, 200, this.source.metricsContentType, await this.source.metricsText());
        return;
      case '/health':
        this.send(res, req, 200, 'application/json', '{"status":"ok"}\n');
        return;
      case '/ready': {
        const r = this.source.readiness();
        const body = r.ready ? { status: 'ready' } : { status: 'not ready', reasons: r.reasons };
        this.send(res, req, r.ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
        return;
      }
      case '/':
      case '/index.html':
        res.setHeader('content-security-policy', PAGE_CSP);
        this.send(res, req, 200, 'text/html; charset=utf-8', renderStatusPage(this.source.snapshot()));
        return;
      default:
        this.send(res, req, 404, 'text/plain; charset=utf-8', 'not found: try /, /metrics, /health or /ready\n');
    }
  }

  private send(res: http.ServerResponse, req: http.IncomingMessage, status: number, contentType: string, body: string): void {
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(status, { ...COMMON_HEADERS, 'content-type': contentType, 'content-length': bytes.length });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }
}
