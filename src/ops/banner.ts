// The start-up banner: what a FIX engineer needs to point a client at this gateway. On readable
// logs (a terminal, LogFormat=pretty) it is printed to stdout as plain text; with JSON logs the same
// facts go out as one log line (bannerFacts), so a log collector reading stdout sees only JSON.
// Pure: renders from the parsed sessions and what was actually bound (an ephemeral port's number).
import type { SessionConfig } from '../fix/config/session-settings';

/** What the TLS and admin settings add to a session's config, shown when present. */
interface OptionalBannerFacts {
  /** SocketUseSSL=Y: the port's TLS settings. */
  tls?: unknown;
  /** HttpAcceptPort / HttpAcceptHost: the admin endpoint with the status page. */
  admin?: { host: string; port: number };
}

/** What start-up bound: the acceptor's endpoints (with their sessions) and the admin endpoint's URL. */
export interface BoundEndpoints {
  endpoints?: ReadonlyArray<{ host: string; port: number; sessions?: readonly string[] }>;
  /** The status page's URL as bound (HttpAcceptPort=0 resolved). */
  adminUrl?: string;
}

export interface SessionFacts {
  endpoint: string;
  clientSenderCompId: string;
  clientTargetCompId: string;
  venue?: string;
  environment?: string;
  application?: string;
  transport: 'TLS' | 'plain';
}

export interface BannerFacts {
  configFile: string;
  pid: number;
  beginString: string;
  sessions: SessionFacts[];
  statusPage?: string;
  stores: string[];
  fixLogs: string[];
}

function pad(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function statusPageUrl(configs: readonly SessionConfig[]): string | undefined {
  const admin = configs.map((c) => (c as SessionConfig & OptionalBannerFacts).admin).find((a) => a !== undefined);
  if (!admin || admin.port === 0) return undefined; // an ephemeral port: only what was bound can tell
  // A wildcard address is reachable on loopback from this host.
  const host = admin.host === '0.0.0.0' || admin.host === '::' ? '127.0.0.1' : admin.host;
  return `http://${hostForUrl(host)}:${admin.port}/`;
}

export function bannerFacts(configs: readonly SessionConfig[], info: { configFile: string; pid: number } & BoundEndpoints): BannerFacts {
  const sessions = (configs as ReadonlyArray<SessionConfig & OptionalBannerFacts>).map((c): SessionFacts => {
    // The port bound for this session (differs from the configured one only when that was 0).
    const bound = info.endpoints?.find((e) => e.sessions?.includes(c.sessionId));
    const facts: SessionFacts = {
      endpoint: `${hostForUrl(c.acceptHost)}:${bound?.port ?? c.acceptPort}`,
      clientSenderCompId: c.targetCompId, // the client's SenderCompID is our TargetCompID, and the other way round
      clientTargetCompId: c.senderCompId,
      transport: c.tls ? 'TLS' : 'plain',
    };
    if (c.venue) Object.assign(facts, { venue: c.venue.name, environment: c.venue.environment });
    else facts.application = c.application;
    return facts;
  });
  // A wildcard address is reachable on loopback from this host.
  const statusPage = info.adminUrl?.replace(/^http:\/\/(0\.0\.0\.0|\[::\]):/, 'http://127.0.0.1:') ?? statusPageUrl(configs);
  return {
    configFile: info.configFile,
    pid: info.pid,
    beginString: configs[0]?.beginString ?? 'FIX.4.2',
    sessions,
    ...(statusPage ? { statusPage } : {}),
    stores: [...new Set(configs.map((c) => c.fileStorePath))],
    fixLogs: [...new Set(configs.map((c) => c.fileLogPath))],
  };
}

export function renderBanner(configs: readonly SessionConfig[], info: { configFile: string; pid: number } & BoundEndpoints): string {
  const f = bannerFacts(configs, info);
  const rows = [['FIX endpoint', 'client SenderCompID', 'client TargetCompID', 'venue', 'environment', 'transport']];
  for (const s of f.sessions) {
    rows.push([s.endpoint, s.clientSenderCompId, s.clientTargetCompId, s.venue ?? `(${s.application} application)`, s.environment ?? '-', s.transport]);
  }
  const lines = [
    '',
    `FIX venue gateway running (pid ${f.pid}, config ${f.configFile})`,
    `${f.beginString} sessions: point an initiator at the endpoint with these CompIDs (the session is picked by them):`,
    '',
    ...pad(rows).map((l) => `  ${l}`),
    '',
    f.statusPage ? `Status page: ${f.statusPage}   (metrics: ${f.statusPage}metrics)` : undefined,
    `Stores: ${f.stores.join(', ')}   FIX logs: ${f.fixLogs.join(', ')}`,
    'Stop with Ctrl-C or SIGTERM (clients are logged out, stores flushed).',
    '',
  ];
  return lines.filter((l): l is string => l !== undefined).join('\n') + '\n';
}
