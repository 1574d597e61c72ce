// Scaffolding shared by the end-to-end tests that SIGKILL and restart the gateway child while a
// venue simulator child keeps the venue's state: one simulator per test file, gateways started
// (and restarted on the same directory and ports) against it, FIX clients that record everything
// and answer ResendRequests, and the ways those tests read the ExecutionReports they got.
import { FixMsg, FixTestClient } from './fix-test-client';
import { CfgValues, GatewayProcess, killAllGateways, removeDir, startGatewayProcess } from './gateway-process';
import {
  CLIENT_COMP_ID,
  FixRecorder,
  GATEWAY_COMP_ID,
  SimControl,
  SimOrderView,
  SimulatorProcess,
  autoAnswerResendRequests,
  gatewayConfig,
  killAllSimulators,
  logonAndSync,
  startSimulatorProcess,
  statusFields,
  waitForMessage,
} from './gateway-e2e';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface VenueCrashSuiteOptions {
  /** `simulate --venue <venue>`; the simulator's and the gateway's default (HashKey) when absent. */
  venue?: string;
  /** More session settings for the gateway, after Venue/VenueRestUrl/VenueWsUrl. */
  session?: CfgValues;
  /** After "venue ready", also wait until the simulator has this many user streams connected. */
  streams?: number;
  /** Puts the simulator back after each test, after faults are cleared (errors ignored). */
  resetSim?: (control: SimControl) => Promise<unknown>;
}

export interface VenueCrashSuite {
  /** The simulator child (started in beforeAll). */
  readonly simProc: SimulatorProcess;
  /** Its /__sim/ control API. */
  readonly control: SimControl;
  /** The gateway config pointing one session at the simulator. */
  config(): string;
  /** Removes `dir` after the file's tests. */
  removeAfter(dir: string): void;
  /** A gateway child, ready for orders; with `prev`, restarted on its directory and ports. */
  startGateway(prev?: GatewayProcess): Promise<GatewayProcess>;
  /** A client for the gateway session, logged on, that records everything and answers ResendRequests. */
  connectClient(port: number): Promise<{ client: FixTestClient; rec: FixRecorder }>;
  /** SIGKILLs the gateway and waits until the client sees its connection close. */
  crash(gw: GatewayProcess, client: FixTestClient): Promise<void>;
  /** Restarts a killed gateway on its store and logs the same client on again, repairing any gap. */
  restart(prev: GatewayProcess, client: FixTestClient): Promise<GatewayProcess>;
  /** Polls the venue (every 20 ms, about 2 s) until it has an order matching `pred`. */
  waitForVenueOrder(pred: (o: SimOrderView) => boolean, filter?: { symbol?: string }): Promise<SimOrderView>;
}

/**
 * Registers the file's hooks (simulator in beforeAll; clients, gateways and simulator faults
 * cleaned up after each test; everything stopped and removed after all) and returns the helpers.
 * Call it at the top level of a test file.
 */
export function useVenueCrashSuite(opts: VenueCrashSuiteOptions = {}): VenueCrashSuite {
  let simProc: SimulatorProcess | undefined;
  const dirs: string[] = [];
  const clients: FixTestClient[] = [];

  beforeAll(async () => {
    simProc = await startSimulatorProcess({ venue: opts.venue });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await killAllGateways();
    await simProc?.control.clearFaults().catch(() => undefined);
    if (opts.resetSim && simProc) await opts.resetSim(simProc.control).catch(() => undefined);
  });
  afterAll(async () => {
    await killAllGateways();
    await simProc?.stop().catch(() => undefined);
    await killAllSimulators();
    for (const d of dirs) removeDir(d);
  });

  const sim = (): SimulatorProcess => {
    if (!simProc) throw new Error('the simulator is not started (use the suite inside a test)');
    return simProc;
  };
  const config = () =>
    gatewayConfig({ ...(opts.venue ? { Venue: opts.venue } : {}), VenueRestUrl: sim().restUrl, VenueWsUrl: sim().wsUrl, ...opts.session });

  const suite: VenueCrashSuite = {
    get simProc() {
      return sim();
    },
    get control() {
      return sim().control;
    },
    config,
    removeAfter: (dir) => void dirs.push(dir),
    async startGateway(prev) {
      const gw = await startGatewayProcess({ config: config(), dir: prev?.dir, ports: prev ? [...prev.ports] : undefined });
      if (!prev) dirs.push(gw.dir);
      // Orders sent before the venue side is up are rejected (reported separately): wait for it.
      await gw.waitForLog((e) => e.msg === 'venue ready', 10_000);
      for (let i = 0; opts.streams !== undefined && (await sim().control.streams()) < opts.streams; i++) {
        if (i > 100) throw new Error(`gateway never connected its stream\n${gw.describe()}`);
        await sleep(50);
      }
      return gw;
    },
    async connectClient(port) {
      const client = await FixTestClient.connect({ port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
      clients.push(client);
      const rec = new FixRecorder(client);
      autoAnswerResendRequests(client);
      await logonAndSync(client);
      return { client, rec };
    },
    async crash(gw, client) {
      await gw.kill('SIGKILL');
      await client.waitClosed(5000);
    },
    async restart(prev, client) {
      const gw = await suite.startGateway(prev);
      await client.reconnect(gw.port);
      await logonAndSync(client);
      return gw;
    },
    async waitForVenueOrder(pred, filter) {
      for (let i = 0; ; i++) {
        if (i > 100) throw new Error('the venue never got the order');
        await sleep(20);
        const o = (await sim().control.orders(filter)).find(pred);
        if (o) return o;
      }
    },
  };
  return suite;
}

// ------------------------------------------------------------------------------------------------
// Reading the reports

/** The values of `tags` in `m`, for comparing a message with toEqual. */
export function fieldsOf(m: FixMsg, ...tags: number[]): Record<number, string | undefined> {
  const out: Record<number, string | undefined> = {};
  for (const t of tags) out[t] = m.get(t);
  return out;
}

/**
 * Live ERs (20=0) for an order (11 or 41 = `clOrdId`), as the client's application would take
 * them: a PossDup resend of an ER already received (same ExecID) is dropped, after checking it is
 * the same report; an ExecID sent twice without PossDup throws.
 */
export function liveReports(client: FixTestClient, clOrdId: string): FixMsg[] {
  const byExecId = new Map<string, FixMsg>();
  const out: FixMsg[] = [];
  for (const m of client.received) {
    if (m.msgType !== '8' || m.get(20) !== '0' || (m.get(11) !== clOrdId && m.get(41) !== clOrdId)) continue;
    const id = m.get(17)!;
    const seen = byExecId.get(id);
    if (seen) {
      if (!m.possDup) throw new Error(`ExecID ${id} sent twice without PossDup:\n${seen}\n${m}`);
      expect(fieldsOf(m, 14, 32, 31, 39, 150, 151)).toEqual(fieldsOf(seen, 14, 32, 31, 39, 150, 151));
      continue;
    }
    byExecId.set(id, m);
    out.push(m);
  }
  // In the order a FIX engine processes them: a resend (43=Y) that fills a gap comes before the
  // live messages that arrived while it was outstanding (no sequence reset in these tests).
  return out.sort((a, b) => Number(a.get(34)) - Number(b.get(34)));
}

/** The live fill reports (150=1 or 2) for an order. */
export function fillReports(client: FixTestClient, clOrdId: string): FixMsg[] {
  return liveReports(client, clOrdId).filter((m) => m.get(150) === '1' || m.get(150) === '2');
}

/** Sends an OrderStatusRequest and waits for its answer (20=3). */
export async function requestStatus(client: FixTestClient, clOrdId: string, o: { symbol?: string; side?: '1' | '2' }): Promise<FixMsg> {
  const from = client.received.length;
  client.send('H', statusFields(clOrdId, o));
  return waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === clOrdId && m.get(20) === '3', { from, what: `status of ${clOrdId}` });
}

/** Waits for the New ack (150=0) of each order, keyed by ClOrdID. */
export async function waitForAcks(client: FixTestClient, clOrdIds: string[]): Promise<Record<string, FixMsg>> {
  const acks: Record<string, FixMsg> = {};
  for (const cl of clOrdIds) {
    acks[cl] = await waitForMessage(client, (m) => m.msgType === '8' && m.get(11) === cl && m.get(150) === '0', { what: `ack of ${cl}` });
  }
  return acks;
}
