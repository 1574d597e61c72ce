// Every venue the gateway can trade on, as data: its environments (both URLs of each, exactly as
// the venue notes list them), the URL rule its VenueRestUrl / VenueWsUrl must follow, which
// credentials it needs, its published rate limits, and how to build its adapter and simulator.
// src/wiring.ts looks venues up here by the name in sessions.cfg (Venue=...) and turns a session's
// Venue* keys into a VenueConfig with these facts; it never branches on a venue's name.
import { VenueAdapter, VenueConfig, RateLimits } from './venue';
import { RunningSimulator, SimulatorOptions } from './sim/simulator';
import { HashKeyAdapter } from './hashkey/hashkey-adapter';
import { startHashKeySimulator } from './hashkey/hashkey-simulator';
import { HASHKEY_ENVIRONMENTS, HASHKEY_RATE_LIMITS } from './hashkey/hashkey-constants';
import { ZerocapAdapter } from './zerocap/zerocap-adapter';
import { startZerocapSimulator } from './zerocap/zerocap-simulator';
import { ZEROCAP_ENVIRONMENTS, ZEROCAP_RATE_LIMITS } from './zerocap/zerocap-constants';
import { DzengiAdapter } from './dzengi/dzengi-adapter';
import { startDzengiSimulator } from './dzengi/dzengi-simulator';
import { DZENGI_ENVIRONMENTS, DZENGI_RATE_LIMITS } from './dzengi/dzengi-constants';
import { ApifinyAdapter } from './apifiny/apifiny-adapter';
import { startApifinySimulator } from './apifiny/apifiny-simulator';
import { APIFINY_RATE_LIMITS, apifinyUrls, resolveApifinyExchange } from './apifiny/apifiny-constants';
import { apifinyAccountDigits } from './apifiny/apifiny-order-id';
import { CoinutAdapter } from './coinut/coinut-adapter';
import { startCoinutSimulator } from './coinut/coinut-simulator';
import { COINUT_ENVIRONMENTS, COINUT_RATE_LIMITS } from './coinut/coinut-constants';

export interface VenueLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: object): VenueLogger;
}

export interface VenueUrls {
  restUrl: string;
  wsUrl: string;
}

/** A problem with one sessions.cfg key; wiring turns it into a ConfigError naming file, line and key. */
export interface VenueSettingProblem {
  key: 'VenueEnvironment' | 'VenueRestUrl' | 'VenueWsUrl' | 'VenueApiKey' | 'VenueApiSecret' | 'VenueAccount' | 'VenueExDestination';
  problem: string;
}

export interface VenueEnvironmentSpec {
  /** Both base URLs, exactly as the venue notes list them; computed where they depend on the exchange (Apifiny). */
  urls: VenueUrls | ((exDestination: string | undefined) => VenueUrls | VenueSettingProblem);
  /** Set when this gateway cannot trade there: start-up fails with this text. */
  unsupported?: string;
}

/**
 * VenueRestUrl / VenueWsUrl are the base URLs exactly as the venue notes list them, path included;
 * only scheme, host and port may differ (a simulator, a proxy). Each path must match.
 */
export interface VenueUrlRule {
  restPath: RegExp;
  wsPath: RegExp;
  /** The notes' URLs, shown in errors. */
  restExample: string;
  wsExample: string;
}

export type CredentialUse = 'required' | 'unused';

/** Simulator start options plus what a venue's simulator needs from the session (the exchange it routes to). */
export interface VenueSimulatorOptions extends SimulatorOptions {
  exDestination?: string;
}

export interface VenueModule {
  name: string;
  /** Environments by their VenueEnvironment name (`simulator` is every venue's and is not listed). */
  environments: Readonly<Record<string, VenueEnvironmentSpec>>;
  urlRule: VenueUrlRule;
  /** What VenueAccount is here (`required`: the account the venue names; `unused`: setting it is an error). */
  account: { use: CredentialUse; meaning?: string; problem?: (account: string) => string | undefined };
  /** True when the venue has no separate secret: VenueApiSecret may be omitted, and must equal VenueApiKey when given (Coinut). */
  apiSecretIsApiKey?: boolean;
  /**
   * True when the adapter's clientOrderId scheme is `integer` (Coinut): sessions on one account
   * then get disjoint id slices, checked at start-up (wiring.ts checkVenueIdPrefixes).
   */
  integerClientOrderIds?: boolean;
  /**
   * The exchange an aggregator routes to (VenueExDestination), checked against the URLs; absent
   * = the venue routes nowhere else and VenueExDestination is an error.
   */
  exDestination?: (urls: VenueUrls, configured: string | undefined) => { exchange: string } | VenueSettingProblem;
  /** Published limits (or ours where none are published); VenueRateLimit* override them (applyRateLimitOverrides). */
  rateLimits: RateLimits;
  createAdapter(config: VenueConfig, logger: VenueLogger): VenueAdapter;
  startSimulator(opts: VenueSimulatorOptions): Promise<RunningSimulator>;
  /** Credentials the simulator accepts when a session names none (demo only, not secrets). */
  simulatorCredentials: { apiKey: string; apiSecret: string; account?: string };
}

const NO_PATH = /^\/?$/;

export const VENUES: Readonly<Record<string, VenueModule>> = {
  hashkey: {
    name: 'hashkey',
    environments: {
      production: { urls: { restUrl: HASHKEY_ENVIRONMENTS.production.restUrl, wsUrl: HASHKEY_ENVIRONMENTS.production.wsUrl } },
      sandbox: { urls: { restUrl: HASHKEY_ENVIRONMENTS.sandbox.restUrl, wsUrl: HASHKEY_ENVIRONMENTS.sandbox.wsUrl } },
    },
    urlRule: {
      restPath: NO_PATH,
      wsPath: /^\/api\/v1\/ws\/?$/,
      restExample: HASHKEY_ENVIRONMENTS.production.restUrl,
      wsExample: HASHKEY_ENVIRONMENTS.production.wsUrl,
    },
    account: { use: 'unused' },
    rateLimits: HASHKEY_RATE_LIMITS,
    createAdapter: (config, logger) => new HashKeyAdapter(config, logger),
    startSimulator: startHashKeySimulator,
    simulatorCredentials: { apiKey: 'sim-hashkey-key', apiSecret: 'sim-hashkey-secret' },
  },
  zerocap: {
    name: 'zerocap',
    environments: {
      production: { urls: ZEROCAP_ENVIRONMENTS.production },
      sandbox: { urls: ZEROCAP_ENVIRONMENTS.sandbox },
      // Older SDKs only; the current test environment is sandbox.
      uat: { urls: ZEROCAP_ENVIRONMENTS.uat },
    },
    urlRule: {
      restPath: /^\/v2\/?$/,
      wsPath: /^\/v2\/?$/,
      restExample: ZEROCAP_ENVIRONMENTS.production.restUrl,
      wsExample: ZEROCAP_ENVIRONMENTS.production.wsUrl,
    },
    account: { use: 'unused' },
    rateLimits: ZEROCAP_RATE_LIMITS,
    createAdapter: (config, logger) => new ZerocapAdapter(config, logger),
    startSimulator: startZerocapSimulator,
    simulatorCredentials: { apiKey: 'sim-zerocap-key', apiSecret: 'sim-zerocap-secret' },
  },
  dzengi: {
    name: 'dzengi',
    environments: {
      live: { urls: DZENGI_ENVIRONMENTS.production },
      production: { urls: DZENGI_ENVIRONMENTS.production },
      demo: {
        urls: DZENGI_ENVIRONMENTS.sandbox,
        unsupported:
          'Dzengi demo accounts support only the v1 API (dzengi.md, changelog July 2021) and this gateway trades through v2 ' +
          '(order create/cancel, fetchOrder, openOrders, myTrades): use live, or simulator',
      },
    },
    urlRule: {
      restPath: NO_PATH,
      wsPath: /^\/connect\/?$/,
      restExample: DZENGI_ENVIRONMENTS.production.restUrl,
      wsExample: DZENGI_ENVIRONMENTS.production.wsUrl,
    },
    account: { use: 'unused' },
    rateLimits: DZENGI_RATE_LIMITS,
    createAdapter: (config, logger) => new DzengiAdapter(config, logger),
    startSimulator: startDzengiSimulator,
    simulatorCredentials: { apiKey: 'sim-dzengi-key', apiSecret: 'sim-dzengi-secret' },
  },
  apifiny: {
    name: 'apifiny',
    environments: {
      production: { urls: (ex) => (ex ? apifinyUrls(ex, 'production') : needExchange('production')) },
      // The 2022 SDK's sandbox host; its availability today is unconfirmed (apifiny.md).
      sandbox: { urls: (ex) => (ex ? apifinyUrls(ex, 'sandbox') : needExchange('sandbox')) },
    },
    urlRule: {
      restPath: /^\/ac\/v2(\/[A-Za-z0-9_]+)?\/?$/,
      wsPath: /^\/ac\/ws\/v2(\/[A-Za-z0-9_]+)?\/order\/?$/,
      restExample: 'https://api.apifiny.com/ac/v2/<EXCHANGE> or https://apibn.apifiny.com/ac/v2',
      wsExample: 'wss://api.apifiny.com/ac/ws/v2/<EXCHANGE>/order or wss://apibn.apifiny.com/ac/ws/v2/order',
    },
    account: {
      use: 'required',
      meaning: 'the Apifiny accountId, like STA-00000001',
      problem: (a) => {
        try {
          apifinyAccountDigits(a);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    },
    exDestination: (urls, configured) => {
      const r = resolveApifinyExchange(urls.restUrl, urls.wsUrl, configured);
      if (r.ok) return { exchange: r.exchange };
      return { key: configured !== undefined ? 'VenueExDestination' : 'VenueRestUrl', problem: r.problem };
    },
    rateLimits: APIFINY_RATE_LIMITS,
    createAdapter: (config, logger) => new ApifinyAdapter(config, logger),
    startSimulator: (o) =>
      startApifinySimulator({
        ...o,
        exchange: o.exDestination,
        accountIds: o.credentials.map((c, i) => c.account ?? `STA-${String(i + 1).padStart(8, '0')}`),
      }),
    simulatorCredentials: { apiKey: 'sim-apifiny-key-id', apiSecret: 'sim-apifiny-secret', account: 'STA-00000001' },
  },
  coinut: {
    name: 'coinut',
    // Production only: coinut.md documents no sandbox.
    environments: { production: { urls: COINUT_ENVIRONMENTS.production } },
    urlRule: {
      restPath: NO_PATH,
      wsPath: NO_PATH,
      restExample: COINUT_ENVIRONMENTS.production.restUrl,
      wsExample: COINUT_ENVIRONMENTS.production.wsUrl,
    },
    account: { use: 'required', meaning: 'the Coinut username' },
    apiSecretIsApiKey: true,
    integerClientOrderIds: true,
    rateLimits: COINUT_RATE_LIMITS,
    createAdapter: (config, logger) => new CoinutAdapter(config, logger),
    // Coinut instruments carry inst_ids: its simulator keeps its own list.
    startSimulator: ({ instruments: _instruments, ...o }) =>
      startCoinutSimulator({
        ...o,
        credentials: o.credentials.map((c) => ({ apiKey: c.apiKey, username: c.account })),
      }),
    simulatorCredentials: { apiKey: 'sim-coinut-key', apiSecret: 'sim-coinut-key', account: 'simuser' },
  },
};

function needExchange(environment: string): VenueSettingProblem {
  return {
    key: 'VenueExDestination',
    problem: `required with VenueEnvironment=${environment} unless VenueRestUrl/VenueWsUrl are given: Apifiny's URL names the exchange (BINANCE, ...)`,
  };
}

/** Limits the simulators publish: high enough that the gateway, not the simulator, is measured. */
export const SIMULATOR_RATE_LIMITS = { ordersPerSecond: 50_000, queriesPerSecond: 20_000 };
