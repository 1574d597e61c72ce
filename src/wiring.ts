// Gateway sessions and simulators are wired here: this is the one place that turns a session's
// Venue* keys into an adapter (and, for VenueEnvironment=simulator, a simulator in this process).
import { createHash } from 'crypto';
import * as path from 'path';
import type { Logger } from 'pino';
import { configErrorFor, SessionConfig, sessionPeriodStart } from './fix/config/session-settings';
import type { FixApplication } from './fix/application';
import { FileOrderBook } from './gateway/file-order-book';
import { GatewayApplication } from './gateway/gateway-application';
import { SIMULATOR_RATE_LIMITS, VENUES, VenueModule } from './venues/registry';
import { RunningSimulator } from './venues/sim/simulator';
import { VenueConfig } from './venues/venue';

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

/** Start-up check: no two gateway sessions may share a venue id prefix (they could share a venue account). */
export function checkVenueIdPrefixes(configs: SessionConfig[]): void {
  const seen = new Map<string, SessionConfig>();
  for (const cfg of configs) {
    if (cfg.application !== 'gateway') continue;
    const prefix = venueIdPrefixFor(cfg);
    const other = seen.get(prefix);
    if (other) {
      throw configErrorFor(cfg, 'TargetCompID', `venue client order id prefix ${prefix} is also that of session ${other.sessionId}; change a CompID`);
    }
    seen.set(prefix, cfg);
  }
}

export async function createGatewayApplication(
  cfg: SessionConfig,
  key: string,
  logger: Logger,
): Promise<{ app: FixApplication; close: () => Promise<void> }> {
  const mod = venueModule(cfg);
  const v = cfg.venue!;
  let simulator: RunningSimulator | undefined;
  let restUrl: string;
  let wsUrl: string;
  let apiKey = v.apiKey;
  let apiSecret = v.apiSecret;
  if (v.environment === 'simulator') {
    apiKey ??= mod.simulatorCredentials.apiKey;
    apiSecret ??= mod.simulatorCredentials.apiSecret;
  }
  if (v.environment === 'simulator' && !v.restUrl) {
    // No URL given: run the simulator in this process (a URL means one is running elsewhere).
    simulator = await mod.startSimulator({
      port: v.simulatorPort ?? 0,
      credentials: [{ apiKey: apiKey!, apiSecret: apiSecret! }],
      rateLimits: SIMULATOR_RATE_LIMITS,
      logger: logger.child({ simulator: mod.name }),
    });
    restUrl = simulator.restUrl;
    wsUrl = simulator.wsUrl;
    logger.info({ venue: mod.name, restUrl, session: cfg.sessionId }, 'venue simulator started');
  } else if (v.environment === 'simulator') {
    restUrl = v.restUrl!;
    wsUrl = v.wsUrl ?? v.restUrl!.replace(/^http/, 'ws');
  } else {
    restUrl = mod.environments[v.environment].restUrl;
    wsUrl = mod.environments[v.environment].wsUrl;
  }
  if (v.restUrl) restUrl = v.restUrl;
  if (v.wsUrl) wsUrl = v.wsUrl;
  if (apiKey === undefined || apiSecret === undefined) {
    throw configErrorFor(cfg, 'VenueApiKey', `VenueApiKey and VenueApiSecret are required for ${v.environment}`);
  }
  // A simulator publishes higher limits than the venue, so the gateway is what gets measured.
  const simulated = v.environment === 'simulator';
  const venueConfig: VenueConfig = {
    restUrl,
    wsUrl,
    apiKey,
    apiSecret,
    account: v.account,
    rateLimits: {
      ...(simulated ? SIMULATOR_RATE_LIMITS : {}),
      ...(v.rateLimitOrders !== undefined ? { ordersPerSecond: v.rateLimitOrders } : {}),
      ...(v.rateLimitQueries !== undefined ? { queriesPerSecond: v.rateLimitQueries } : {}),
    },
  };
  const adapter = mod.createAdapter(venueConfig, logger);
  // ClOrdIDs are unique per session period (StartTime/EndTime), as the session's sequence is.
  const book = new FileOrderBook(path.join(cfg.fileStorePath, 'orders'), key, { periodStart: () => sessionPeriodStart(cfg, new Date()) });
  const app = new GatewayApplication({
    venue: adapter,
    book,
    logger,
    venueIdPrefix: venueIdPrefixFor(cfg),
    dayTimeInForce: v.dayOrderTimeInForce,
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

/** `simulate --venue NAME --port N [--host H] [--api-key K --api-secret S]` (or SIM_API_KEY / SIM_API_SECRET). */
export async function runSimulatorCommand(args: string[], logger: Logger): Promise<void> {
  const name = flag(args, '--venue') ?? '';
  const mod = VENUES[name.toLowerCase()];
  if (!mod) throw new Error(`simulate: unknown --venue "${name}"; known: ${Object.keys(VENUES).join(', ')}`);
  const port = Number(flag(args, '--port') ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`simulate: bad --port`);
  const apiKey = flag(args, '--api-key') ?? process.env.SIM_API_KEY ?? mod.simulatorCredentials.apiKey;
  const apiSecret = flag(args, '--api-secret') ?? process.env.SIM_API_SECRET ?? mod.simulatorCredentials.apiSecret;
  const sim = await mod.startSimulator({
    host: flag(args, '--host') ?? '127.0.0.1',
    port,
    credentials: [{ apiKey, apiSecret }],
    rateLimits: args.includes('--published-limits') ? undefined : SIMULATOR_RATE_LIMITS,
    logger: logger.child({ simulator: mod.name }),
  });
  logger.info({ venue: mod.name, restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey }, 'simulator started');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await sim.close();
}
