// Gateway sessions and simulators are wired here: this is the one place that turns a session's
// Venue* keys into an adapter (and, for VenueEnvironment=simulator, a simulator in this process).
import { createHash } from 'crypto';
import * as path from 'path';
import type { Logger } from 'pino';
import { configErrorFor, SessionConfig, sessionPeriodStart } from './fix/config/session-settings';
import type { FixApplication } from './fix/application';
import { FileOrderBook } from './gateway/file-order-book';
import type { SharedJournal } from './durable/shared-journal';
import { GatewayApplication } from './gateway/gateway-application';
import { IntegerIdPartition } from './gateway/order-validation';
import { applyRateLimitOverrides, perSecondLimits } from './venues/common/rate-limiter';
import { SIMULATOR_RATE_LIMITS, VENUES, VenueModule, VenueSettingProblem, VenueUrls } from './venues/registry';
import { RunningSimulator } from './venues/sim/simulator';
import { RateLimits, VenueAdapter, VenueConfig } from './venues/venue';
import type { AdminEndpoint } from './ops/admin-endpoint';
import type { StorageHealth } from './gateway/order-router';

function venueModule(cfg: SessionConfig): VenueModule {
  const name = cfg.venue?.name ?? '';
  const mod = VENUES[name.toLowerCase()];
  if (!mod) throw configErrorFor(cfg, 'Venue', `unknown venue "${name}"; known: ${Object.keys(VENUES).join(', ')}`);
  return mod;
}

/**
 * Prefix of the client order ids a gateway session sends to its venue: up to 4 characters of the
 * TargetCompID (for people reading venue screens) and 6 base-36 characters of a hash of the whole
 * session identity (BeginString, SenderCompID, TargetCompID: the session id). Fixed length, so two
 * different prefixes never produce the same id; checkVenueIdPrefixes makes sure they differ.
 */
export function venueIdPrefixFor(cfg: Pick<SessionConfig, 'sessionId' | 'targetCompId'>): string {
  const readable = cfg.targetCompId.replace(/[^A-Za-z0-9]/g, '').slice(0, 4).padEnd(4, 'x');
  const digest = createHash('sha256').update(cfg.sessionId).digest();
  const hash = (digest.readUIntBE(0, 6) % 36 ** 6).toString(36).padStart(6, '0');
  return `${readable}${hash}`;
}

/**
 * Slices of a venue's integer client order id range (Coinut: 1..16777215, so 262,143 ids a
 * session). Such ids are not unique-enforced at the venue and every session on an account sees
 * every order of it, so sessions that may share an account draw from disjoint slices.
 */
export const INTEGER_ID_PARTITIONS = 64;

/** The session's slice: a hash of the session id, so it never moves while the session exists. */
export function integerIdPartitionFor(cfg: Pick<SessionConfig, 'sessionId'>): IntegerIdPartition {
  const digest = createHash('sha256').update(`integer-ids:${cfg.sessionId}`).digest();
  return { index: digest.readUInt32BE(0) % INTEGER_ID_PARTITIONS, count: INTEGER_ID_PARTITIONS };
}

/** The venue account a session trades on, as far as the config tells (sessions with the same key share it). */
function venueAccountKey(cfg: SessionConfig): string | undefined {
  const v = cfg.venue;
  const mod = v ? VENUES[v.name.toLowerCase()] : undefined;
  if (!v || !mod) return undefined;
  // A simulator started in-process for this session is its own venue.
  if (v.environment === 'simulator' && v.restUrl === undefined) return undefined;
  const account = v.account ?? (v.environment === 'simulator' ? mod.simulatorCredentials.account : undefined) ?? v.apiKey ?? '';
  return JSON.stringify([mod.name, v.environment, v.restUrl ?? '', account]);
}

/**
 * Start-up checks: no two gateway sessions may share a venue id prefix (they could share a venue
 * account), and no two sessions on one account of a venue with integer client order ids may share
 * an id slice (integerIdPartitionFor).
 */
export function checkVenueIdPrefixes(configs: SessionConfig[]): void {
  const seen = new Map<string, SessionConfig>();
  const slices = new Map<string, SessionConfig>();
  for (const cfg of configs) {
    if (cfg.application !== 'gateway') continue;
    const prefix = venueIdPrefixFor(cfg);
    const other = seen.get(prefix);
    if (other) {
      throw configErrorFor(cfg, 'TargetCompID', `venue client order id prefix ${prefix} is also that of session ${other.sessionId}; change a CompID`);
    }
    seen.set(prefix, cfg);
    const account = venueAccountKey(cfg);
    if (account === undefined || !VENUES[cfg.venue!.name.toLowerCase()].integerClientOrderIds) continue;
    const slice = `${account}#${integerIdPartitionFor(cfg).index}`;
    const sharing = slices.get(slice);
    if (sharing) {
      throw configErrorFor(
        cfg,
        'TargetCompID',
        `sessions ${sharing.sessionId} and ${cfg.sessionId} trade on one ${cfg.venue!.name} account and would draw client order ids from the same slice (${integerIdPartitionFor(cfg).index} of ${INTEGER_ID_PARTITIONS}); change a CompID`,
      );
    }
    slices.set(slice, cfg);
  }
}

/** A session's venue settings resolved against its venue's facts: what the adapter (and simulator) get. */
export interface ResolvedVenue {
  mod: VenueModule;
  /** Absent: VenueEnvironment=simulator with no URLs, so the simulator runs in this process. */
  urls?: VenueUrls;
  apiKey: string;
  apiSecret: string;
  account?: string;
  /** The exchange an aggregator routes to (VenueExDestination or the one its URL names). */
  exDestination?: string;
  rateLimits: RateLimits;
}

function urlPathProblem(url: string, path: RegExp, example: string): string | undefined {
  const pathname = new URL(url).pathname;
  if (path.test(pathname)) return undefined;
  return `path ${JSON.stringify(pathname)} is not the venue's: give the base URL exactly as the venue lists it (${example}), path included; only scheme, host and port may differ`;
}

/**
 * Checks a gateway session's Venue* keys against its venue's facts and resolves them: environment,
 * both URLs (never guessed from one another), credentials, exchange, rate limits. Every problem is
 * a ConfigError naming file, line and key. Pure: starts nothing.
 */
export function resolveVenue(cfg: SessionConfig): ResolvedVenue {
  const mod = venueModule(cfg);
  const v = cfg.venue!;
  const fail = (p: VenueSettingProblem) => configErrorFor(cfg, p.key, p.problem);
  const simulated = v.environment === 'simulator';
  const env = simulated ? undefined : mod.environments[v.environment];
  if (!simulated && env === undefined) {
    const known = [...Object.keys(mod.environments), 'simulator'].join(', ');
    throw fail({ key: 'VenueEnvironment', problem: `${mod.name} has no environment "${v.environment}"; known: ${known}` });
  }
  if (env?.unsupported) throw fail({ key: 'VenueEnvironment', problem: env.unsupported });

  // URLs: both or neither, each with the venue's own path.
  if ((v.restUrl === undefined) !== (v.wsUrl === undefined)) {
    const given = v.restUrl !== undefined ? 'VenueRestUrl' : 'VenueWsUrl';
    const missing = v.restUrl !== undefined ? 'VenueWsUrl' : 'VenueRestUrl';
    throw fail({ key: given, problem: `${missing} must be given too: both base URLs are explicit, never derived from one another` });
  }
  if (v.restUrl !== undefined && v.wsUrl !== undefined) {
    const restProblem = urlPathProblem(v.restUrl, mod.urlRule.restPath, mod.urlRule.restExample);
    if (restProblem) throw fail({ key: 'VenueRestUrl', problem: restProblem });
    const wsProblem = urlPathProblem(v.wsUrl, mod.urlRule.wsPath, mod.urlRule.wsExample);
    if (wsProblem) throw fail({ key: 'VenueWsUrl', problem: wsProblem });
  }
  let urls: VenueUrls | undefined;
  if (v.restUrl !== undefined && v.wsUrl !== undefined) urls = { restUrl: v.restUrl, wsUrl: v.wsUrl };
  else if (env !== undefined) {
    const u = typeof env.urls === 'function' ? env.urls(v.exDestination) : env.urls;
    if ('problem' in u) throw fail(u);
    urls = u;
  }

  // The exchange: only where the venue routes to several, and then consistent with the URLs.
  let exDestination: string | undefined;
  if (mod.exDestination) {
    if (urls !== undefined) {
      const r = mod.exDestination(urls, v.exDestination);
      if ('problem' in r) throw fail(r);
      exDestination = r.exchange;
    } else exDestination = v.exDestination?.toUpperCase();
  } else if (v.exDestination !== undefined) {
    throw fail({ key: 'VenueExDestination', problem: `${mod.name} routes to no other exchange` });
  }

  // Credentials: the simulator's demo ones where none are given.
  const demo = simulated ? mod.simulatorCredentials : undefined;
  const apiKey = v.apiKey ?? demo?.apiKey;
  if (apiKey === undefined) throw fail({ key: 'VenueApiKey', problem: `required with VenueEnvironment=${v.environment}` });
  let apiSecret = v.apiSecret;
  if (mod.apiSecretIsApiKey) {
    if (apiSecret !== undefined && apiSecret !== apiKey) {
      throw fail({ key: 'VenueApiSecret', problem: `${mod.name} has no separate secret (the API key is the HMAC key): leave VenueApiSecret out, or make it the same key` });
    }
    apiSecret = apiKey;
  } else {
    apiSecret ??= demo?.apiSecret;
    if (apiSecret === undefined) throw fail({ key: 'VenueApiSecret', problem: `required with VenueEnvironment=${v.environment}` });
  }
  let account = v.account;
  if (mod.account.use === 'unused' && account !== undefined) {
    throw fail({ key: 'VenueAccount', problem: `${mod.name} names no account in its requests; remove VenueAccount` });
  }
  if (mod.account.use === 'required') {
    account ??= demo?.account;
    if (account === undefined) throw fail({ key: 'VenueAccount', problem: `required: ${mod.account.meaning ?? 'the venue account'}` });
    const problem = mod.account.problem?.(account);
    if (problem) throw fail({ key: 'VenueAccount', problem });
  }

  // Rate limits: the venue's (or, on a simulator, the simulator's higher ones), then the overrides.
  const base = simulated ? perSecondLimits({ ...SIMULATOR_RATE_LIMITS, maxQueue: mod.rateLimits.maxQueue }) : mod.rateLimits;
  const overridden = applyRateLimitOverrides(base, { ordersPerSecond: v.rateLimitOrders, queriesPerSecond: v.rateLimitQueries });
  const rateLimits = v.maxQueueWaitSeconds === undefined ? overridden : { ...overridden, maxQueueWaitMs: v.maxQueueWaitSeconds * 1000 };
  return { mod, urls, apiKey, apiSecret, account, exDestination, rateLimits };
}

export async function createGatewayApplication(
  cfg: SessionConfig,
  key: string,
  logger: Logger,
  /** The session's journal (sessionJournalFor), shared by its store and the order book. */
  journal: SharedJournal,
  admin?: AdminEndpoint,
  opts: { storage?: StorageHealth } = {},
): Promise<{ app: FixApplication; close: () => Promise<void> }> {
  const r = resolveVenue(cfg);
  const monitor = admin?.venueMonitor(cfg, r.mod.name);
  const { mod } = r;
  const v = cfg.venue!;
  let simulator: RunningSimulator | undefined;
  let urls = r.urls;
  if (urls === undefined) {
    // No URL given: run the simulator in this process (URLs mean one is running elsewhere).
    simulator = await mod.startSimulator({
      port: v.simulatorPort ?? 0,
      credentials: [{ apiKey: r.apiKey, apiSecret: r.apiSecret, account: r.account }],
      rateLimits: SIMULATOR_RATE_LIMITS,
      exDestination: r.exDestination,
      logger: logger.child({ simulator: mod.name }),
    });
    urls = { restUrl: simulator.restUrl, wsUrl: simulator.wsUrl };
    logger.info({ venue: mod.name, restUrl: urls.restUrl, wsUrl: urls.wsUrl, session: cfg.sessionId }, 'venue simulator started');
  }
  const venueConfig: VenueConfig = {
    restUrl: urls.restUrl,
    wsUrl: urls.wsUrl,
    apiKey: r.apiKey,
    apiSecret: r.apiSecret,
    account: r.account,
    exDestination: r.exDestination,
    rateLimits: monitor ? monitor.watchRateLimits(r.rateLimits) : r.rateLimits,
  };
  let adapter: VenueAdapter;
  try {
    adapter = mod.createAdapter(venueConfig, logger);
    if (monitor) adapter = monitor.wrap(adapter);
  } catch (err) {
    await simulator?.close();
    throw err;
  }
  // ClOrdIDs are unique per session period (StartTime/EndTime), as the session's sequence is.
  // The book shares the session's journal: an order's new state and its reports are one durable
  // write. `orders/` is where a book of the previous format (its own file) is imported from.
  const book = new FileOrderBook(path.join(cfg.fileStorePath, 'orders'), key, { periodStart: () => sessionPeriodStart(cfg, new Date()), journal });
  // One journal: the session's store already times its writes (watchSession); a book of its own is timed here.
  if (!book.sharesJournal) admin?.watchOrderBook(cfg, book.journalStats);
  const app = new GatewayApplication({
    venue: adapter,
    book,
    logger,
    venueIdPrefix: venueIdPrefixFor(cfg),
    integerIdPartition: integerIdPartitionFor(cfg),
    dayTimeInForce: v.dayOrderTimeInForce,
    observer: monitor?.gatewayObserver,
    sequenceSurvivesRestart: !(cfg.resetOnLogon || cfg.resetOnLogout || cfg.resetOnDisconnect),
    storage: opts.storage,
  });
  return {
    app,
    close: async () => {
      await simulator?.close();
    },
  };
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export function simulateUsage(): string {
  return [
    'usage: node dist/main.js simulate --venue <name> [--port N] [--host H] [--api-key K] [--api-secret S] [--account A]',
    '                                  [--ex-destination EXCHANGE] [--published-limits]',
    `  --venue           one of: ${Object.keys(VENUES).join(', ')}`,
    '  --port            0 (default) = an ephemeral port; the log line "simulator started" gives restUrl and wsUrl',
    '  --api-key/--api-secret/--account  the credentials it accepts (or SIM_API_KEY / SIM_API_SECRET / SIM_ACCOUNT);',
    "                    default: the venue's demo credentials, the ones a session with VenueEnvironment=simulator uses",
    '  --ex-destination  the exchange an aggregator simulator routes to (apifiny; default BINANCE)',
    "  --published-limits  enforce the venue's published rate limits instead of the simulators' high ones",
    '  --help, -h        this text',
  ].join('\n');
}

/** `simulate --venue NAME --port N [...]`: see simulateUsage(). */
export async function runSimulatorCommand(args: string[], logger: Logger): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(simulateUsage() + '\n');
    return;
  }
  const name = flag(args, '--venue') ?? '';
  const mod = VENUES[name.toLowerCase()];
  if (!mod) throw new Error(`simulate: unknown --venue "${name}"; known: ${Object.keys(VENUES).join(', ')}\n${simulateUsage()}`);
  const port = Number(flag(args, '--port') ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`simulate: bad --port`);
  const demo = mod.simulatorCredentials;
  const apiKey = flag(args, '--api-key') ?? process.env.SIM_API_KEY ?? demo.apiKey;
  const apiSecret = flag(args, '--api-secret') ?? process.env.SIM_API_SECRET ?? (mod.apiSecretIsApiKey ? apiKey : demo.apiSecret);
  const account = flag(args, '--account') ?? process.env.SIM_ACCOUNT ?? demo.account;
  const sim = await mod.startSimulator({
    host: flag(args, '--host') ?? '127.0.0.1',
    port,
    credentials: [{ apiKey, apiSecret, account }],
    rateLimits: args.includes('--published-limits') ? undefined : SIMULATOR_RATE_LIMITS,
    exDestination: flag(args, '--ex-destination'),
    logger: logger.child({ simulator: mod.name }),
  });
  logger.info({ venue: mod.name, restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey, account }, 'simulator started');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await sim.close();
}
