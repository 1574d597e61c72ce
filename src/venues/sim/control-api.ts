// The JSON control API every simulator mounts under /__sim/ on its own HTTP server: arm faults,
// make external trades, change settings, read every order for assertions. A test and demo tool:
// no auth, loopback clients only. Venue neutral; the simulator supplies a SimControlTarget.
//
//   GET    /__sim/health         {status, venue, time, ...target.health()}
//   POST   /__sim/faults         a FaultRule or an array of them        -> {armed: [...]}
//   GET    /__sim/faults         -> {armed: [...]}
//   DELETE /__sim/faults         disarm everything                        -> {armed: []}
//   POST   /__sim/drop-streams   close every user-stream connection       -> {dropped: n}
//   POST   /__sim/trade          {symbol, side, qty, price?}              -> {fills: [...]}
//   POST   /__sim/config         {fillSlices?, liquidity?: {SYMBOL: {depth?, levelQty?, spreadTicks?}},
//                                 referencePrices?: {SYMBOL: price}, ...venue settings} -> {applied: [...]}
//   GET    /__sim/orders         ?account=&symbol=&clientOrderId=         -> {orders: [... with fills]}
//
// Errors answer {"error": "..."} with 400 (bad input), 403 (not loopback) or 404.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultInjector } from './fault-injector';
import type { EngineSettings, MatchingEngine, SimSide } from './matching-engine';

export const CONTROL_PREFIX = '/__sim/';

export interface SimControlTarget {
  /** Venue name for /health. */
  readonly name: string;
  readonly engine: MatchingEngine;
  readonly faults: FaultInjector;
  /** The venue's own setting names accepted by POST /__sim/config. */
  readonly settingKeys: readonly string[];
  /** Apply venue settings (only keys from settingKeys); throw on invalid values. */
  configure(settings: Record<string, unknown>): void;
  /** Extra fields for /health (e.g. connected streams). */
  health?(): Record<string, unknown>;
  /**
   * The ids a client of the venue sees, for a venue whose wire ids are not the engine's (e.g.
   * UUIDs): /__sim/orders and /__sim/trade then show orderId / tradeId as on the wire, so a test
   * can compare them with what the gateway reported. The engine's ids stay under engineOrderId /
   * engineTradeId.
   */
  wireIds?: { orderId(engineOrderId: string): string; tradeId(engineTradeId: string): string };
}

/** An order or fill as /__sim/ shows it: with the venue's wire ids when the target maps them. */
function withWireIds<T extends { orderId: string; tradeId?: string; fills?: { orderId: string; tradeId: string }[] }>(
  target: SimControlTarget,
  x: T,
): T {
  const ids = target.wireIds;
  if (ids === undefined) return x;
  const out: T = { ...x, orderId: ids.orderId(x.orderId), engineOrderId: x.orderId };
  if (x.tradeId !== undefined) Object.assign(out, { tradeId: ids.tradeId(x.tradeId), engineTradeId: x.tradeId });
  if (x.fills !== undefined) out.fills = x.fills.map((f) => withWireIds(target, f));
  return out;
}

const ENGINE_KEYS: ReadonlySet<string> = new Set(['fillSlices', 'liquidity', 'referencePrices']);
const MAX_BODY = 1 << 20;

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isLoopback(addr: string | undefined): boolean {
  return addr !== undefined && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) reject(new ControlError(413, 'body too large'));
    });
    req.on('end', () => {
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new ControlError(400, 'body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ControlError(400, `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ControlError(400, `${key} must be a string`);
  return v;
}

async function route(target: SimControlTarget, req: IncomingMessage, path: string, query: URLSearchParams): Promise<unknown> {
  const what = `${req.method} ${path}`;
  switch (what) {
    case 'GET /__sim/health':
      return { status: 'ok', venue: target.name, time: Date.now(), ...(target.health?.() ?? {}) };
    case 'GET /__sim/faults':
      return { armed: target.faults.pending() };
    case 'POST /__sim/faults': {
      const body = await readJson(req);
      target.faults.arm(body as never);
      return { armed: target.faults.pending() };
    }
    case 'DELETE /__sim/faults':
      target.faults.clear();
      return { armed: [] };
    case 'POST /__sim/drop-streams':
      return { dropped: target.faults.dropStreams() };
    case 'POST /__sim/trade': {
      const body = asObject(await readJson(req), 'trade');
      const symbol = optionalString(body, 'symbol');
      const qty = optionalString(body, 'qty');
      if (symbol === undefined || qty === undefined) throw new ControlError(400, 'symbol and qty are required');
      const fills = target.engine.trade(symbol, body.side as SimSide, qty, optionalString(body, 'price'));
      return { fills: fills.map((f) => withWireIds(target, f)) };
    }
    case 'POST /__sim/config': {
      const body = asObject(await readJson(req), 'config');
      const unknown = Object.keys(body).filter((k) => !ENGINE_KEYS.has(k) && !target.settingKeys.includes(k));
      if (unknown.length > 0) throw new ControlError(400, `unknown settings: ${unknown.join(', ')}`);
      const venue: Record<string, unknown> = {};
      for (const k of Object.keys(body)) if (!ENGINE_KEYS.has(k)) venue[k] = body[k];
      target.engine.configure(body as EngineSettings);
      target.configure(venue);
      return { applied: Object.keys(body) };
    }
    case 'GET /__sim/orders': {
      const account = query.get('account');
      const symbol = query.get('symbol');
      const clientOrderId = query.get('clientOrderId');
      const orders = target.engine
        .allOrders()
        .filter(
          (o) =>
            (account === null || o.account === account) &&
            (symbol === null || o.symbol === symbol) &&
            (clientOrderId === null || o.clientOrderId === clientOrderId),
        )
        .map((o) => withWireIds(target, o));
      return { orders };
    }
    default:
      throw new ControlError(404, `no control endpoint ${what}`);
  }
}

/** Serve one request whose path starts with CONTROL_PREFIX. */
export function handleControlRequest(
  target: SimControlTarget,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): void {
  if (!isLoopback(req.socket.remoteAddress)) {
    send(res, 403, { error: 'the simulator control API answers loopback clients only' });
    req.resume();
    return;
  }
  route(target, req, path, query).then(
    (body) => send(res, 200, body),
    (err: unknown) => {
      if (res.headersSent) return;
      const status = err instanceof ControlError ? err.status : 400;
      send(res, status, { error: err instanceof Error ? err.message : String(err) });
      req.resume();
    },
  );
}
