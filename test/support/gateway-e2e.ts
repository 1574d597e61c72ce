// Helpers for the gateway end-to-end tests (FIX over TCP → gateway child → venue simulator), for
// any venue in the registry:
//  - a standalone simulator child (`node dist/main.js simulate --venue X`), for tests where the
//    simulator must outlive the gateway;
//  - startVenueE2e(): simulator child + gateway child with one session on it + a logged-on FIX
//    client, so a venue's e2e test is a short file (VENUE_E2E has each venue's symbol and prices);
//  - a client for the simulator's /__sim/ control API (faults, external trades, drop-streams, orders);
//  - a recorder of everything a FixTestClient sends and receives, in wire order;
//  - an ExecutionReport invariant checker over such a record, a port of
//    ../shared/qfclient/fixinvariants.py (same rules, same problem texts);
//  - FIX message builders and a logon that repairs a gap with a ResendRequest.
// Children started here are tracked: killAllSimulators() (afterAll) stops the ones still running,
// and a process 'exit' hook SIGKILLs them if a test run dies.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import Decimal from 'decimal.js';
import { FixMsg, FixTestClient, SentMessage, TagValue, fixTime, sohToPipes } from './fix-test-client';
import { GATEWAY_MAIN, REPO_ROOT, buildConfig, CfgValues, GatewayProcess, removeDir, startGatewayProcess } from './gateway-process';

// ------------------------------------------------------------------------------------------------
// Simulator child process

const liveSims = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of liveSims) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export interface SimulatorProcess {
  child: ChildProcess;
  restUrl: string;
  wsUrl: string;
  port: number;
  control: SimControl;
  output(): string;
  /** SIGTERM (SIGKILL after 3 s) and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `node dist/main.js simulate --venue <venue, default hashkey> --port <port|0> [args]` and
 * waits for "simulator started". Its restUrl/wsUrl are the venue's base URLs (the URL rule), ready
 * for a session's VenueRestUrl/VenueWsUrl; it accepts the venue's demo credentials, the ones a
 * VenueEnvironment=simulator session uses when it names none.
 */
export async function startSimulatorProcess(
  opts: { venue?: string; port?: number; timeoutMs?: number; args?: string[] } = {},
): Promise<SimulatorProcess> {
  if (!fs.existsSync(GATEWAY_MAIN)) throw new Error(`${GATEWAY_MAIN} is missing: build first (npx tsc -p tsconfig.json)`);
  const argv = [GATEWAY_MAIN, 'simulate', '--venue', opts.venue ?? 'hashkey', '--port', String(opts.port ?? 0), ...(opts.args ?? [])];
  const child = spawn(process.execPath, argv, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveSims.add(child);
  let out = '';
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      liveSims.delete(child);
      resolve();
    }),
  );
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (out += s));
  const started = await new Promise<{ restUrl: string; wsUrl: string }>((resolve, reject) => {
    let rest = '';
    const t = setTimeout(() => reject(new Error(`simulator not started within ${opts.timeoutMs ?? 10_000} ms:\n${out}`)), opts.timeoutMs ?? 10_000);
    child.stdout!.on('data', (s: string) => {
      out += s;
      const lines = (rest + s).split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        try {
          const e = JSON.parse(l) as Record<string, unknown>;
          if (e.msg === 'simulator started') {
            clearTimeout(t);
            resolve({ restUrl: String(e.restUrl), wsUrl: String(e.wsUrl) });
          }
        } catch {
          /* not a log line */
        }
      }
    });
    void exited.then(() => {
      clearTimeout(t);
      reject(new Error(`simulator exited before it started:\n${out}`));
    });
  }).catch(async (e) => {
    child.kill('SIGKILL');
    await exited;
    throw e;
  });
  const port = Number(new URL(started.restUrl).port);
  return {
    child,
    ...started,
    port,
    control: new SimControl(started.restUrl),
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(hard);
    },
  };
}

/** SIGKILLs every simulator child still running and waits for them to exit. */
export async function killAllSimulators(): Promise<void> {
  await Promise.all(
    [...liveSims].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
}

// ------------------------------------------------------------------------------------------------
// /__sim/ control API

export interface SimFillView {
  tradeId: string;
  execId: string;
  orderId: string;
  clientOrderId: string;
  qty: string;
  price: string;
  time: number;
}

export interface SimOrderView {
  orderId: string;
  account: string;
  clientOrderId: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: string;
  timeInForce: string;
  postOnly: boolean;
  qty: string;
  price?: string;
  status: string;
  cumQty: string;
  avgPrice: string;
  leavesQty: string;
  rejectReason?: string;
  resting: boolean;
  fills: SimFillView[];
}

export type SimFault = Record<string, unknown> & { kind: string };

export class SimControl {
  constructor(readonly baseUrl: string) {}

  async request<T = unknown>(method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          agent: false,
          headers: text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (data += c));
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`${method} ${path} -> ${res.statusCode} ${data}`));
            try {
              resolve(JSON.parse(data) as T);
            } catch (e) {
              reject(e);
            }
          });
        },
      );
      req.on('error', reject);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(text);
    });
  }

  health(): Promise<Record<string, unknown>> {
    return this.request('GET', '/__sim/health');
  }

  armFaults(rules: SimFault | SimFault[]): Promise<{ armed: SimFault[] }> {
    return this.request('POST', '/__sim/faults', rules);
  }

  async pendingFaults(): Promise<SimFault[]> {
    return (await this.request<{ armed: SimFault[] }>('GET', '/__sim/faults')).armed;
  }

  clearFaults(): Promise<unknown> {
    return this.request('DELETE', '/__sim/faults');
  }

  async dropStreams(): Promise<number> {
    return (await this.request<{ dropped: number }>('POST', '/__sim/drop-streams')).dropped;
  }

  /** An external taker on `side` (the taker's side) fills resting client orders up to `price`. */
  async trade(t: { symbol: string; side: 'buy' | 'sell'; qty: string; price?: string }): Promise<SimFillView[]> {
    return (await this.request<{ fills: SimFillView[] }>('POST', '/__sim/trade', t)).fills;
  }

  configure(settings: Record<string, unknown>): Promise<unknown> {
    return this.request('POST', '/__sim/config', settings);
  }

  /** Every order the venue has (a soak's tens of thousands take a while: `timeoutMs`). */
  async orders(filter: { account?: string; symbol?: string; clientOrderId?: string } = {}, timeoutMs?: number): Promise<SimOrderView[]> {
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]).toString();
    return (await this.request<{ orders: SimOrderView[] }>('GET', `/__sim/orders${q ? `?${q}` : ''}`, undefined, timeoutMs)).orders;
  }

  /** Streams currently connected (from /health). */
  async streams(): Promise<number> {
    return Number((await this.health()).streams ?? 0);
  }
}

// ------------------------------------------------------------------------------------------------
// Gateway configuration

/**
 * sessions.cfg for one gateway session GATEWAY <- QFCLIENT on a venue's simulator (HashKey unless
 * `session` says `Venue`), extra keys merged in.
 */
export function gatewayConfig(session: CfgValues = {}, defaults: CfgValues = {}): string {
  return buildConfig(
    [
      {
        SenderCompID: 'GATEWAY',
        TargetCompID: 'QFCLIENT',
        Application: 'gateway',
        Venue: 'hashkey',
        VenueEnvironment: 'simulator',
        ...session,
      },
    ],
    { ResetOnLogon: 'N', ResetOnLogout: 'N', ResetOnDisconnect: 'N', ...defaults },
  );
}

// ------------------------------------------------------------------------------------------------
// FIX message builders (FIX 4.2, gateway session QFCLIENT -> GATEWAY)

export const CLIENT_COMP_ID = 'QFCLIENT';
export const GATEWAY_COMP_ID = 'GATEWAY';

export interface NosFields {
  symbol?: string;
  side?: '1' | '2';
  qty: string;
  price?: string;
  ordType?: '1' | '2';
  tif?: string | null;
  execInst?: string;
  account?: string;
}

/** NewOrderSingle body: 11, 21=1, 38, 40, 44, 54, 55, 59, 60 (+1, 18). */
export function nosFields(clOrdId: string, f: NosFields): TagValue[] {
  const ordType = f.ordType ?? '2';
  const out: TagValue[] = [
    [11, clOrdId],
    [21, '1'],
    [38, f.qty],
    [40, ordType],
    [54, f.side ?? '1'],
    [55, f.symbol ?? 'BTCUSDT'],
    [60, fixTime()],
  ];
  if (ordType === '2') out.push([44, f.price ?? '50000']);
  if (f.tif !== null) out.push([59, f.tif ?? '1']);
  if (f.execInst !== undefined) out.push([18, f.execInst]);
  if (f.account !== undefined) out.push([1, f.account]);
  return out.sort((a, b) => a[0] - b[0]);
}

export function cancelFields(clOrdId: string, origClOrdId: string, o: { symbol?: string; side?: '1' | '2'; qty?: string } = {}): TagValue[] {
  const out: TagValue[] = [
    [11, clOrdId],
    [41, origClOrdId],
    [54, o.side ?? '1'],
    [55, o.symbol ?? 'BTCUSDT'],
    [60, fixTime()],
  ];
  if (o.qty !== undefined) out.push([38, o.qty]);
  return out.sort((a, b) => a[0] - b[0]);
}

export function statusFields(clOrdId: string, o: { symbol?: string; side?: '1' | '2' } = {}): TagValue[] {
  return [
    [11, clOrdId],
    [54, o.side ?? '1'],
    [55, o.symbol ?? 'BTCUSDT'],
  ];
}

// ------------------------------------------------------------------------------------------------
// Any venue: simulator child + gateway child + logged-on client

/** What a venue's e2e test needs to know about its simulator's market (see each simulator's instruments). */
export interface VenueE2eProfile {
  venue: string;
  /** FIX Symbol (55), the venue's own spelling. */
  symbol: string;
  /** A buy limit price that fills at once (at or above the simulator's best ask). */
  fillingBuyPrice: string;
  /** A buy limit price that rests (below the best bid). */
  restingBuyPrice: string;
  qty: string;
  /** The TimeInForce (59) the venue accepts on a limit: 1 GTC, or 4 FOK where that is all there is. */
  limitTif: string;
  /** Extra `simulate` arguments. */
  simArgs?: string[];
}

export const VENUE_E2E: Readonly<Record<string, VenueE2eProfile>> = {
  hashkey: { venue: 'hashkey', symbol: 'BTCUSDT', fillingBuyPrice: '61000', restingBuyPrice: '50000', qty: '0.001', limitTif: '1' },
  zerocap: { venue: 'zerocap', symbol: 'BTC/USD', fillingBuyPrice: '61000', restingBuyPrice: '50000', qty: '0.001', limitTif: '4' },
  dzengi: { venue: 'dzengi', symbol: 'BTC/USD', fillingBuyPrice: '61000', restingBuyPrice: '50000', qty: '0.001', limitTif: '1' },
  apifiny: { venue: 'apifiny', symbol: 'BTCUSDT', fillingBuyPrice: '61000', restingBuyPrice: '50000', qty: '0.001', limitTif: '1' },
  coinut: { venue: 'coinut', symbol: 'BTCUSDT', fillingBuyPrice: '61000', restingBuyPrice: '50000', qty: '0.001', limitTif: '1' },
};

export interface VenueE2e {
  profile: VenueE2eProfile;
  sim: SimulatorProcess;
  /** The simulator's /__sim/ control API (faults, trades, orders). */
  control: SimControl;
  gw: GatewayProcess;
  client: FixTestClient;
  rec: FixRecorder;
  /** NewOrderSingle fields for this venue's symbol and TIF, `f` merged in. */
  nos(clOrdId: string, f?: Partial<NosFields>): TagValue[];
  /** Stops the client, the gateway and the simulator, and removes the gateway's directory. */
  stop(): Promise<void>;
}

/**
 * `simulate --venue <venue>` as a child, a gateway child with one session GATEWAY <- QFCLIENT on
 * it (VenueEnvironment=simulator, VenueRestUrl/VenueWsUrl = the simulator's), waits for "venue
 * ready" (and `streams` user streams at the simulator, when given), then a FIX client logs on.
 */
export async function startVenueE2e(
  venue: string,
  opts: { session?: CfgValues; defaults?: CfgValues; streams?: number; readyTimeoutMs?: number } = {},
): Promise<VenueE2e> {
  const profile = VENUE_E2E[venue];
  if (!profile) throw new Error(`no e2e profile for venue ${venue}`);
  const sim = await startSimulatorProcess({ venue, args: profile.simArgs });
  let gw: GatewayProcess | undefined;
  let client: FixTestClient | undefined;
  try {
    gw = await startGatewayProcess({
      config: gatewayConfig({ Venue: venue, VenueRestUrl: sim.restUrl, VenueWsUrl: sim.wsUrl, ...opts.session }, opts.defaults),
    });
    await gw.waitForLog((e) => e.msg === 'venue ready', opts.readyTimeoutMs ?? 10_000);
    for (let i = 0; opts.streams !== undefined && (await sim.control.streams()) < opts.streams; i++) {
      if (i > 100) throw new Error(`gateway never connected its stream to the ${venue} simulator\n${gw.describe()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
    const rec = new FixRecorder(client);
    autoAnswerResendRequests(client);
    await client.logon({ heartBtInt: 30 });
    const g = gw;
    const c = client;
    return {
      profile,
      sim,
      control: sim.control,
      gw: g,
      client: c,
      rec,
      nos: (clOrdId, f = {}) => nosFields(clOrdId, { symbol: profile.symbol, qty: profile.qty, price: profile.restingBuyPrice, tif: profile.limitTif, ...f }),
      stop: async () => {
        c.destroy();
        await g.stop().catch(() => g.kill('SIGKILL'));
        await sim.stop();
        removeDir(g.dir);
      },
    };
  } catch (e) {
    client?.destroy();
    if (gw) {
      await gw.kill('SIGKILL').catch(() => undefined);
      removeDir(gw.dir);
    }
    await sim.stop();
    throw e;
  }
}

// ------------------------------------------------------------------------------------------------
// Recording what a client sends and receives

export interface RecordedMessage {
  dir: 'out' | 'in';
  raw: string;
}

/** Everything `client` sends (through send()) and receives from now on, in order. */
export class FixRecorder {
  readonly messages: RecordedMessage[] = [];

  constructor(client: FixTestClient) {
    const send = client.send.bind(client);
    client.send = (...args: Parameters<FixTestClient['send']>): SentMessage => {
      const m = send(...args);
      this.messages.push({ dir: 'out', raw: m.raw });
      return m;
    };
    client.onMessage((m) => this.messages.push({ dir: 'in', raw: m.raw }));
  }

  dump(): string {
    return this.messages.map((m) => `${m.dir === 'out' ? '>>' : '<<'} ${sohToPipes(m.raw)}`).join('\n');
  }
}

// ------------------------------------------------------------------------------------------------
// ExecutionReport invariants: a port of ../shared/qfclient/fixinvariants.py

const D = Decimal.clone({ precision: 60 });
type Dec = Decimal;
const TERMINAL = new Set(['2', '3', '4', '8', 'C']);
const ADMIN = new Set(['0', 'A', '1', '2', '3', '4', '5']);
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseFields(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of raw.split('\x01')) {
    if (!part) continue;
    const i = part.indexOf('=');
    const tag = i < 0 ? part : part.slice(0, i);
    if (!out.has(tag)) out.set(tag, i < 0 ? '' : part.slice(i + 1));
  }
  return out;
}

function dec(v: string | undefined): Dec | undefined {
  if (v === undefined || v === '' || !PLAIN_NUMBER.test(v)) return undefined;
  return new D(v);
}

function fmt(d: Dec | undefined): string {
  return d === undefined ? '?' : d.toFixed();
}

class InvOrder {
  qty?: Dec;
  ers = 0;
  fills = 0;
  fillSum: Dec = new D(0);
  notional: Dec = new D(0);
  maxCum: Dec = new D(0);
  lastCum?: Dec;
  terminal?: string;
  lastStatus?: string;
  hadFill = false;
  constructor(readonly key: string) {}
}

export interface InvariantResult {
  ok: boolean;
  problems: string[];
  orders: number;
  executionReports: number;
  statusReplies: number;
  fills: number;
  resendsIgnored: number;
  summary: string;
}

/**
 * Checks every ExecutionReport the client received (fixinvariants.py's rules 1-8): ExecID unique
 * outside status replies; CumQty never decreases; CumQty = Σ LastShares on live reports and at
 * the end; AvgPx on a fill = VWAP of the fills so far; LastShares > 0 only on fills; LeavesQty =
 * OrderQty − CumQty while live, 0 when terminal; no reject after a fill; nothing live after a
 * terminal report; status replies carry 150 = 39; no ExecTransType 1/2.
 */
export function checkFixInvariants(messages: RecordedMessage[], clientCompId: string = CLIENT_COMP_ID): InvariantResult {
  const problems: string[] = [];
  const orders = new Map<string, InvOrder>();
  const sentNos = new Map<string, Array<Dec | undefined>>();
  const dupPending = new Map<string, number>();
  const dupCount = new Map<string, number>();
  const cancelOrig = new Map<string, string>();
  const statusAsked = new Set<string>();
  const execIds = new Map<string, string>();
  const seenSeq = new Set<string>();
  let ers = 0;
  let statusReplies = 0;
  let resendsIgnored = 0;

  const order = (key: string) => {
    let o = orders.get(key);
    if (!o) orders.set(key, (o = new InvOrder(key)));
    return o;
  };
  const problem = (o: InvOrder | undefined, m: Map<string, string>, text: string) =>
    problems.push(`${o ? `ClOrdID ${o.key}` : 'message'} (34=${m.get('34') ?? '?'} 150=${m.get('150') ?? '?'}): ${text}`);
  const root = (cl: string) => {
    const seen = new Set<string>();
    while (cancelOrig.has(cl) && !seen.has(cl)) {
      seen.add(cl);
      cl = cancelOrig.get(cl)!;
    }
    return cl;
  };

  const outgoing = (mt: string, m: Map<string, string>) => {
    const cl = m.get('11');
    if (mt === 'D' && cl) {
      if (sentNos.has(cl)) dupPending.set(cl, (dupPending.get(cl) ?? 0) + 1);
      if (!sentNos.has(cl)) sentNos.set(cl, []);
      sentNos.get(cl)!.push(dec(m.get('38')));
      if (sentNos.get(cl)!.length === 1) order(cl).qty = dec(m.get('38'));
    } else if (mt === 'F' && cl) {
      if (m.get('41')) cancelOrig.set(cl, m.get('41')!);
    } else if (mt === 'H' && cl) {
      statusAsked.add(cl);
    }
  };

  const execReport = (m: Map<string, string>) => {
    const eid = m.get('17');
    const trans = m.get('20') ?? '';
    if (m.get('43') === 'Y' && trans !== '3' && eid !== undefined && execIds.has(eid)) {
      resendsIgnored++;
      return;
    }
    ers++;
    const cl = m.get('11') ?? '';
    const et = m.get('150') ?? '';
    const st = m.get('39') ?? '';
    const statusReply = trans === '3';
    if (statusReply) statusReplies++;
    let key = root(cl);
    if (!sentNos.has(key) && m.get('41')) key = root(m.get('41')!);
    if (!statusReply && et === '8' && (dupPending.get(cl) ?? 0) > 0) {
      dupPending.set(cl, dupPending.get(cl)! - 1);
      const n = (dupCount.get(cl) ?? 0) + 1;
      dupCount.set(cl, n);
      key = `${cl}#dup${n}`;
      const sent = sentNos.get(cl)!;
      order(key).qty = sent[Math.min(n, sent.length - 1)];
    }
    const o = order(key);
    o.ers++;
    if (o.qty === undefined) o.qty = dec(m.get('38'));

    // 1. ExecID unique (status replies excepted)
    if (!statusReply && eid !== undefined) {
      if (execIds.has(eid)) problem(o, m, `ExecID ${eid} already used (first in 34=${execIds.get(eid)})`);
      else execIds.set(eid, m.get('34') ?? '?');
    }
    if (trans === '1' || trans === '2') problem(o, m, `ExecTransType ${trans} (bust/correction) is not modelled by this checker`);

    const cum = dec(m.get('14'));
    const leaves = dec(m.get('151'));
    const lastShares = dec(m.get('32'));
    const lastPx = dec(m.get('31'));
    const avg = dec(m.get('6'));
    if (cum === undefined || leaves === undefined) {
      problem(o, m, 'CumQty or LeavesQty missing or not a number');
      return;
    }
    // 7. status reply: 150 = 39
    if (statusReply && et !== st) problem(o, m, `status reply with ExecType ${et} != OrdStatus ${st}`);
    // 2. CumQty never decreases
    if (cum.lt(o.maxCum)) problem(o, m, `CumQty decreased from ${fmt(o.maxCum)} to ${fmt(cum)}`);
    o.maxCum = Decimal.max(o.maxCum, cum);
    // 6. nothing live after a terminal state
    if (o.terminal !== undefined) {
      if (!statusReply) problem(o, m, `live report after the order was terminal (39=${o.terminal})`);
      else if (!TERMINAL.has(st)) problem(o, m, `status reply shows live OrdStatus ${st} after terminal 39=${o.terminal}`);
    }
    const isFill = !statusReply && (et === '1' || et === '2');
    // 5. no reject after a fill
    if ((o.hadFill || o.fillSum.gt(0)) && (et === '8' || st === '8')) problem(o, m, `150=${et}/39=${st} on an order that already has fills`);
    if (!statusReply && et === '8' && cum.gt(0)) problem(o, m, `rejected report with CumQty ${fmt(cum)}`);
    // 3. fills
    if (isFill) {
      if (lastShares === undefined || lastShares.lte(0)) problem(o, m, 'fill report without a positive LastShares');
      else {
        o.fills++;
        o.hadFill = true;
        o.fillSum = o.fillSum.plus(lastShares);
        if (lastPx === undefined || lastPx.lte(0)) problem(o, m, 'fill report without a positive LastPx');
        else {
          o.notional = o.notional.plus(lastShares.times(lastPx));
          const vwap = o.notional.div(o.fillSum);
          const tol = Decimal.max(new D('1e-8'), vwap.times('1e-6'));
          if (avg === undefined || avg.minus(vwap).abs().gt(tol)) problem(o, m, `AvgPx ${fmt(avg)} != volume-weighted LastPx ${vwap.toDecimalPlaces(10).toFixed()}`);
        }
      }
    } else if (!statusReply && lastShares !== undefined && !lastShares.isZero()) {
      problem(o, m, `LastShares ${fmt(lastShares)} on a non-fill report`);
    }
    if (!statusReply && !cum.eq(o.fillSum)) problem(o, m, `CumQty ${fmt(cum)} but the fills reported so far sum to ${fmt(o.fillSum)}`);
    // 4. LeavesQty
    if (TERMINAL.has(st)) {
      if (!leaves.isZero()) problem(o, m, `LeavesQty ${fmt(leaves)} on a terminal report (39=${st}), must be 0`);
    } else if (o.qty !== undefined && !leaves.eq(o.qty.minus(cum))) {
      problem(o, m, `LeavesQty ${fmt(leaves)} != OrderQty ${fmt(o.qty)} - CumQty ${fmt(cum)}`);
    }
    o.lastCum = cum;
    o.lastStatus = st;
    if (!statusReply && TERMINAL.has(st) && o.terminal === undefined) o.terminal = st;
  };

  for (const rec of messages) {
    const m = parseFields(rec.raw);
    const mt = m.get('35');
    const isOut = m.get('49') === clientCompId;
    if (mt === 'A' && m.get('141') === 'Y') seenSeq.clear();
    if (mt === undefined || ADMIN.has(mt)) continue;
    if (isOut) {
      outgoing(mt, m);
      continue;
    }
    const seq = m.get('34') ?? '';
    if (m.get('43') === 'Y' && seenSeq.has(seq)) {
      resendsIgnored++;
      continue;
    }
    seenSeq.add(seq);
    if (mt === '8') execReport(m);
  }
  for (const o of orders.values()) {
    if (o.lastCum !== undefined && !o.lastCum.eq(o.fillSum)) {
      problems.push(`ClOrdID ${o.key}: final CumQty ${fmt(o.lastCum)} != sum of LastShares ${fmt(o.fillSum)} over ${o.fills} fill report(s)`);
    }
  }
  const fills = [...orders.values()].reduce((n, o) => n + o.fills, 0);
  const stats = `${orders.size} orders, ${ers} ExecutionReports (${statusReplies} status replies), ${fills} fills`;
  const summary = problems.length ? `invariants: ${problems.length} problem(s) over ${stats}; first: ${problems[0]}` : `invariants ok: ${stats}`;
  return { ok: problems.length === 0 && ers > 0, problems, orders: orders.size, executionReports: ers, statusReplies, fills, resendsIgnored, summary };
}

/**
 * The record as a FIX engine hands it to its application: an inbound message whose MsgSeqNum is
 * above the one expected waits until resends (43=Y) and gap fills close the gap (QuickFIX queues it
 * the same way), so a resend that arrives after newer live messages is processed before them.
 * Outbound messages keep their places; the first inbound message sets the expected MsgSeqNum.
 */
export function inEngineOrder(messages: RecordedMessage[]): RecordedMessage[] {
  const out: RecordedMessage[] = [];
  const waiting = new Map<number, RecordedMessage>();
  let expected: number | undefined;
  const field = (raw: string, tag: number): string | undefined => {
    const i = raw.indexOf(`\x01${tag}=`);
    if (i < 0) return undefined;
    const j = raw.indexOf('\x01', i + 1);
    return raw.slice(i + String(tag).length + 2, j < 0 ? undefined : j);
  };
  const deliver = (m: RecordedMessage): void => {
    out.push(m);
    const seq = Number(field(m.raw, 34));
    if (field(m.raw, 35) === '4' && field(m.raw, 123) === 'Y') expected = Math.max(expected ?? 0, Number(field(m.raw, 36)));
    else if (expected === undefined || seq === expected) expected = seq + 1;
    for (let next = waiting.get(expected!); next; next = waiting.get(expected!)) {
      waiting.delete(expected!);
      deliver(next);
    }
  };
  for (const m of messages) {
    if (m.dir === 'out') {
      out.push(m);
      continue;
    }
    const seq = Number(field(m.raw, 34));
    const type = field(m.raw, 35);
    if (type === 'A') {
      // A Logon is processed at once; with 141=Y it starts a new sequence.
      out.push(m);
      if (field(m.raw, 141) === 'Y' || expected === undefined || seq === expected) {
        waiting.clear();
        expected = seq + 1;
      }
      continue;
    }
    if (expected !== undefined && seq > expected) waiting.set(seq, m);
    else deliver(m);
  }
  out.push(...[...waiting.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m));
  return out;
}

/**
 * Fails (with every problem and the messages) unless the invariants hold over the record from
 * message `from` on. When the reference checker is at hand (FIXINVARIANTS_PY, default
 * ../shared/qfclient/fixinvariants.py) and python3 runs, it must agree (same summary line).
 */
export function expectFixInvariants(rec: FixRecorder, from = 0): InvariantResult {
  const messages = inEngineOrder(rec.messages.slice(from));
  const r = checkFixInvariants(messages);
  const dump = () => messages.map((m) => `${m.dir === 'out' ? '>>' : '<<'} ${sohToPipes(m.raw)}`).join('\n');
  if (!r.ok) throw new Error(`${r.summary}\n${r.problems.join('\n')}\n--- messages\n${dump()}`);
  const script = process.env.FIXINVARIANTS_PY ?? '../shared/qfclient/fixinvariants.py';
  if (fs.existsSync(script)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fixinv-'));
    try {
      const file = path.join(dir, 'client.messages.current.log');
      fs.writeFileSync(file, messages.map((m) => `20260101-00:00:00.000000000 : ${m.raw}`).join('\n') + '\n', 'latin1');
      const py = spawnSync('python3', [script, '--quiet', '--client-comp-id', CLIENT_COMP_ID, file], { encoding: 'utf8' });
      if (!py.error) {
        const line = py.stdout.trim().split('\n').pop() ?? '';
        if (py.status !== 0 || line !== r.summary) {
          throw new Error(`fixinvariants.py disagrees (exit ${py.status}): ${line}\nours: ${r.summary}\n${py.stderr}\n--- messages\n${dump()}`);
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return r;
}

// ------------------------------------------------------------------------------------------------
// Session helpers

/** Answers every ResendRequest the gateway sends from what the client sent (see answerResendRequest). */
export function autoAnswerResendRequests(client: FixTestClient): () => void {
  return client.onMessage((m) => {
    if (m.msgType === '2' && !client.closedNow) client.answerResendRequest(m);
  });
}

/**
 * Logs on (HeartBtInt 30, no reset). When the gateway's Logon has a MsgSeqNum above the one
 * expected (it sent messages we never got, e.g. while it was down or we were disconnected), sends
 * a ResendRequest and waits until the resends (43=Y) and gap fills cover the gap; they stay in
 * `received` (and in a FixRecorder) for the test to read. Answer gateway ResendRequests with
 * autoAnswerResendRequests().
 */
export async function logonAndSync(client: FixTestClient, timeoutMs = 5000): Promise<{ logon: FixMsg; resent: FixMsg[] }> {
  const expected = client.expectedSeqNum;
  const logon = await client.logon({ heartBtInt: 30 }, timeoutMs);
  const resent: FixMsg[] = [];
  if (logon.seqNum <= expected) return { logon, resent };
  client.send('2', [
    [7, expected],
    [16, 0],
  ]);
  const from = client.received.length;
  const coveredUpTo = () => {
    let covered = expected - 1;
    for (const m of client.received.slice(from)) {
      if (!m.possDup) continue;
      if (m.msgType === '4') covered = Math.max(covered, Number(m.get(36)) - 1);
      else covered = Math.max(covered, m.seqNum);
    }
    return covered;
  };
  await waitUntil(client, () => coveredUpTo() >= logon.seqNum - 1, timeoutMs, `resends up to ${logon.seqNum - 1}`);
  resent.push(...client.received.slice(from).filter((m) => m.possDup && m.msgType !== '4'));
  return { logon, resent };
}

/**
 * Resolves once `cond()` holds, checked now and after every message the client receives; fails
 * after `timeoutMs` listing what was received.
 */
export function waitUntil(client: FixTestClient, cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (cond()) return resolve();
    let off: () => void = () => undefined;
    const t = setTimeout(() => {
      off();
      reject(
        new Error(`${what} not met within ${timeoutMs} ms; received:\n${client.received.slice(-30).map(String).join('\n')}`),
      );
    }, timeoutMs);
    off = client.onMessage(() => {
      if (cond()) {
        clearTimeout(t);
        off();
        resolve();
      }
    });
  });
}

/**
 * The first message received (at index >= `from` in client.received) matching `pred`, waiting
 * up to `timeoutMs`. Unlike client.next(), nothing is consumed: tests can look again.
 */
export async function waitForMessage(
  client: FixTestClient,
  pred: (m: FixMsg) => boolean,
  opts: { from?: number; timeoutMs?: number; what?: string } = {},
): Promise<FixMsg> {
  const from = opts.from ?? 0;
  let found: FixMsg | undefined;
  const find = () => (found = client.received.slice(from).find(pred)) !== undefined;
  await waitUntil(client, find, opts.timeoutMs ?? 5000, opts.what ?? 'matching message');
  return found!;
}

/** ExecutionReports (35=8) received at index >= `from` whose ClOrdID(11) or OrigClOrdID(41) is `clOrdId`. */
export function reportsFor(client: FixTestClient, clOrdId: string, from = 0): FixMsg[] {
  return client.received.slice(from).filter((m) => m.msgType === '8' && (m.get(11) === clOrdId || m.get(41) === clOrdId));
}

/** The session event log the gateway writes under FileLogPath (`<dir>/log` with the test config). */
export function sessionEventLog(dir: string, senderCompId = GATEWAY_COMP_ID, targetCompId = CLIENT_COMP_ID): string {
  return path.join(dir, 'log', `FIX.4.2-${senderCompId}-${targetCompId}.event.log`);
}

export function fileSize(file: string): number {
  return fs.existsSync(file) ? fs.statSync(file).size : 0;
}

/** Waits until `file` has a line matching `re` after byte `from`; returns that line. */
export async function waitForFileLine(file: string, re: RegExp, from = 0, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fs.existsSync(file)) {
      const text = fs.readFileSync(file).subarray(from).toString('latin1');
      const line = text.split('\n').find((l) => re.test(l));
      if (line !== undefined) return line;
    }
    if (Date.now() > deadline) {
      const tail = fs.existsSync(file) ? fs.readFileSync(file, 'latin1').split('\n').slice(-15).join('\n') : '(no file)';
      throw new Error(`no line matching ${re} in ${file} within ${timeoutMs} ms; tail:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
