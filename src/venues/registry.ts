// Every venue the gateway can trade on, as data: its environments, how to build its adapter and
// its simulator. main/wiring code looks venues up here by the name in sessions.cfg (Venue=...).
import { VenueAdapter, VenueConfig } from './venue';
import { RunningSimulator, SimulatorOptions } from './sim/simulator';
import { HashKeyAdapter } from './hashkey/hashkey-adapter';
import { startHashKeySimulator } from './hashkey/hashkey-simulator';
import { HASHKEY_ENVIRONMENTS } from './hashkey/hashkey-constants';

export interface VenueLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: object): VenueLogger;
}

export interface VenueModule {
  name: string;
  environments: Record<'production' | 'sandbox', { restUrl: string; wsUrl: string }>;
  createAdapter(config: VenueConfig, logger: VenueLogger): VenueAdapter;
  startSimulator(opts: SimulatorOptions): Promise<RunningSimulator>;
  /** Credentials the simulator accepts when a session names none (demo only, not secrets). */
  simulatorCredentials: { apiKey: string; apiSecret: string };
}

export const VENUES: Readonly<Record<string, VenueModule>> = {
  hashkey: {
    name: 'hashkey',
    environments: {
      production: { restUrl: HASHKEY_ENVIRONMENTS.production.restUrl, wsUrl: HASHKEY_ENVIRONMENTS.production.wsUrl },
      sandbox: { restUrl: HASHKEY_ENVIRONMENTS.sandbox.restUrl, wsUrl: HASHKEY_ENVIRONMENTS.sandbox.wsUrl },
    },
    createAdapter: (config, logger) => new HashKeyAdapter(config, logger),
    startSimulator: startHashKeySimulator,
    simulatorCredentials: { apiKey: 'sim-hashkey-key', apiSecret: 'sim-hashkey-secret' },
  },
};

/** Limits the simulators publish: high enough that the gateway, not the simulator, is measured. */
export const SIMULATOR_RATE_LIMITS = { ordersPerSecond: 50_000, queriesPerSecond: 20_000 };
