// The start-up banner: what a FIX engineer needs to point a client at this gateway, printed once to
// stdout as plain text (not a log line). Pure: renders from the parsed sessions.
import type { SessionConfig } from '../fix/config/session-settings';

/** What the TLS and admin settings add to a session's config, shown when present. */
interface OptionalBannerFacts {
  /** SocketUseSSL=Y: the port's TLS settings. */
  tls?: unknown;
  /** HttpAcceptPort / HttpAcceptHost: the admin endpoint with the status page. */
  admin?: { host: string; port: number };
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
  if (!admin || admin.port === 0) return undefined; // an ephemeral port: the log says which
  // A wildcard address is reachable on loopback from this host.
  const host = admin.host === '0.0.0.0' || admin.host === '::' ? '127.0.0.1' : admin.host;
  return `http://${hostForUrl(host)}:${admin.port}/`;
}

export function renderBanner(configs: readonly SessionConfig[], info: { configFile: string; pid: number }): string {
  const rows = [['FIX endpoint', 'client SenderCompID', 'client TargetCompID', 'venue', 'environment', 'transport']];
  for (const c of configs as ReadonlyArray<SessionConfig & OptionalBannerFacts>) {
    rows.push([
      `${hostForUrl(c.acceptHost)}:${c.acceptPort}`,
      c.targetCompId, // the client's SenderCompID is our TargetCompID, and the other way round
      c.senderCompId,
      c.venue?.name ?? `(${c.application} application)`,
      c.venue?.environment ?? '-',
      c.tls ? 'TLS' : 'plain',
    ]);
  }
  const status = statusPageUrl(configs);
  const lines = [
    '',
    `FIX venue gateway running (pid ${info.pid}, config ${info.configFile})`,
    `${configs[0]?.beginString ?? 'FIX.4.2'} sessions: point an initiator at the endpoint with these CompIDs (the session is picked by them):`,
    '',
    ...pad(rows).map((l) => `  ${l}`),
    '',
    status ? `Status page: ${status}   (metrics: ${status}metrics)` : undefined,
    `Stores: ${[...new Set(configs.map((c) => c.fileStorePath))].join(', ')}   FIX logs: ${[...new Set(configs.map((c) => c.fileLogPath))].join(', ')}`,
    'Stop with Ctrl-C or SIGTERM (clients are logged out, stores flushed).',
    '',
  ];
  return lines.filter((l): l is string => l !== undefined).join('\n') + '\n';
}
