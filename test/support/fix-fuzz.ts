// A seeded, reproducible generator of hostile FIX input: random bytes, and mutations of valid
// messages (wrong BodyLength or CheckSum, huge tag numbers, repeated and miscounted groups,
// invalid UTF-8, very large fields, a missing SOH, garbage before 8=, huge MsgSeqNums, ...).
// The same seed gives the same byte stream, so a failure names its seed and can be replayed
// (FIX_FUZZ_SEED=<seed> npx jest test/faults/fix-fuzz.e2e.test.ts).
import { checksum, pad3 } from '../../src/fix/codec/fix-parser';
import { utcTimestamp } from '../../src/fix/codec/fix-encoder';

/** mulberry32: small, fast, and good enough to pick mutations. */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes as a latin1 string (every value 0..255, SOH and '=' included). */
  bytes(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(256));
    return s;
  }
}

export type Field = [number | string, string];

export interface FuzzContext {
  sender: string;
  target: string;
  /** MsgSeqNum of the next message (the caller advances it for every message sent). */
  seqNum: number;
}

/** Application and session messages a client may send once logged on (bodies only). */
export function baseBodies(rng: Rng): Array<{ msgType: string; body: Field[] }> {
  const id = `FZ${rng.int(1e9)}`;
  const t = utcTimestamp();
  return [
    { msgType: 'D', body: [[11, id], [21, '1'], [38, '0.001'], [40, '2'], [44, '40000'], [54, '1'], [55, 'BTCUSDT'], [59, '1'], [60, t]] },
    { msgType: 'F', body: [[11, `${id}X`], [41, id], [54, '1'], [55, 'BTCUSDT'], [60, t]] },
    { msgType: 'H', body: [[11, id], [54, '1'], [55, 'BTCUSDT']] },
    { msgType: '0', body: [] },
    { msgType: '1', body: [[112, id]] },
    { msgType: '2', body: [[7, '1'], [16, '0']] },
    { msgType: '4', body: [[36, String(rng.int(100) + 1)], [123, 'Y']] },
  ];
}

function header(msgType: string, ctx: FuzzContext): Field[] {
  return [[35, msgType], [34, String(ctx.seqNum)], [49, ctx.sender], [52, utcTimestamp()], [56, ctx.target]];
}

/** Serialises fields with 8=, a BodyLength and a CheckSum, each correct unless overridden. */
export function frame(fields: Field[], o: { bodyLength?: string; checkSum?: string; beginString?: string } = {}): string {
  let body = '';
  for (const [tag, value] of fields) body += `${tag}=${value}\x01`;
  const head = `8=${o.beginString ?? 'FIX.4.2'}\x019=${o.bodyLength ?? body.length}\x01`;
  const msg = head + body;
  return `${msg}10=${o.checkSum ?? pad3(checksum(msg, msg.length))}\x01`;
}

export function validLogon(ctx: FuzzContext, extra: Field[] = []): string {
  return frame([...header('A', ctx), [98, '0'], [108, '30'], ...extra]);
}

const INVALID_UTF8 = ['\xff', '\xfe\xff', '\xc3\x28', '\xe2\x28\xa1', '\xf0\x28\x8c\x28', '\xc0\xaf', '\xed\xa0\x80'];

/** The mutations, by name; each returns the bytes to write. */
export const MUTATIONS: Record<string, (rng: Rng, msgType: string, body: Field[], ctx: FuzzContext) => string> = {
  'random bytes': (rng) => rng.bytes(1 + rng.int(2000)),
  'random bytes after 8=FIX.4.2': (rng) => `8=FIX.4.2\x01${rng.bytes(1 + rng.int(500))}`,
  'wrong BodyLength': (rng, t, b, ctx) => {
    const f = [...header(t, ctx), ...b];
    const right = frame(f).split('\x01')[1].slice(2);
    return frame(f, { bodyLength: String(Math.max(0, Number(right) + rng.pick([-50, -1, 1, 7, 300, 5000]))) });
  },
  'BodyLength not a number': (rng, t, b, ctx) => frame([...header(t, ctx), ...b], { bodyLength: rng.pick(['', 'x', '-5', '1e3', '99999999999999']) }),
  'wrong CheckSum': (rng, t, b, ctx) => frame([...header(t, ctx), ...b], { checkSum: rng.pick(['000', '256', 'abc', '1', '']) }),
  'huge tag number': (rng, t, b, ctx) =>
    frame([...header(t, ctx), ...b, [rng.pick(['99999999999999999999', '2147483648', '4294967296', '0', '-1', '00035']), 'x']]),
  'repeated group, count wrong': (rng, t, b, ctx) => {
    const n = rng.pick(['0', '2', '3', '999999999', '-1', 'x']);
    return frame([...header(t, ctx), ...b, [78, n], [79, 'A1'], [80, '1'], [79, 'A2'], [80, '2'], [79, 'A3']]);
  },
  'repeated tags': (rng, t, b, ctx) => frame([...header(t, ctx), ...b, ...b, [rng.pick([11, 34, 35, 49, 55]), 'dup']]),
  'invalid UTF-8': (rng, t, b, ctx) => frame([...header(t, ctx), ...b.map(([k, v]): Field => [k, rng.next() < 0.5 ? v + rng.pick(INVALID_UTF8) : v]), [58, rng.pick(INVALID_UTF8).repeat(10)]]),
  'field of 60 KB': (rng, t, b, ctx) => frame([...header(t, ctx), ...b, [58, 'x'.repeat(60_000)]]),
  'field of 1 MB': (rng, t, b, ctx) => frame([...header(t, ctx), ...b, [58, 'y'.repeat(1 << 20)]]),
  'missing SOH': (rng, t, b, ctx) => {
    const s = frame([...header(t, ctx), ...b]);
    const sohs = [...s].map((c, i) => (c === '\x01' ? i : -1)).filter((i) => i >= 0);
    const at = rng.pick(sohs);
    return s.slice(0, at) + s.slice(at + 1);
  },
  'garbage before 8=': (rng, t, b, ctx) => rng.bytes(1 + rng.int(100)).replace(/8=FIX/g, '') + frame([...header(t, ctx), ...b]),
  'field without =': (rng, t, b, ctx) => frame([...header(t, ctx), ...b]).replace('\x0149=', '\x0149'),
  'empty values': (rng, t, b, ctx) => frame([...header(t, ctx), ...b.map(([k]): Field => [k, ''])]),
  'huge MsgSeqNum': (rng, t, b, ctx) => frame([...header(t, { ...ctx, seqNum: rng.pick([2 ** 31, 2 ** 32, 2 ** 53, ctx.seqNum + 1 + rng.int(1e6)]) }), ...b]),
  'MsgSeqNum not a number': (rng, t, b, ctx) => frame([...header(t, ctx).map(([k, v]): Field => [k, k === 34 ? rng.pick(['', 'x', '-1', '1.5', '0']) : v]), ...b]),
  'wrong CompIDs': (rng, t, b, ctx) => frame([...header(t, { ...ctx, sender: rng.pick(['', 'EVIL', ctx.target]) }), ...b]),
  'unknown MsgType': (rng, t, b, ctx) => frame([...header(rng.pick(['ZZ', '', '\xff', 'A'.repeat(300)]), ctx), ...b]),
  'first fields out of order': (rng, t, b, ctx) => {
    const h = header(t, ctx);
    return frame([h[1], h[0], ...h.slice(2), ...b]);
  },
  'truncated': (rng, t, b, ctx) => {
    const s = frame([...header(t, ctx), ...b]);
    return s.slice(0, 1 + rng.int(s.length - 1));
  },
  'data field with a wrong length': (rng, t, b, ctx) => frame([...header(t, ctx), ...b, [95, rng.pick(['0', '5', '99999', 'x'])], [96, 'ab\x01cd']]),
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** Relative weights (default 1): a 1 MB field ends the connection, so it comes less often. */
const WEIGHTS: Record<string, number> = { 'field of 1 MB': 0.05, 'field of 60 KB': 0.3 };
const TOTAL_WEIGHT = MUTATION_NAMES.reduce((s, n) => s + (WEIGHTS[n] ?? 1), 0);

function pickMutation(rng: Rng): string {
  let r = rng.next() * TOTAL_WEIGHT;
  for (const n of MUTATION_NAMES) {
    r -= WEIGHTS[n] ?? 1;
    if (r < 0) return n;
  }
  return MUTATION_NAMES[MUTATION_NAMES.length - 1];
}

/** One message for a logged-on session: valid with probability `validShare`, else mutated. */
export function fuzzMessage(rng: Rng, ctx: FuzzContext, validShare = 0.2): { mutation: string; bytes: string } {
  const base = rng.pick(baseBodies(rng));
  if (rng.next() < validShare) return { mutation: 'valid', bytes: frame([...header(base.msgType, ctx), ...base.body]) };
  const mutation = pickMutation(rng);
  return { mutation, bytes: MUTATIONS[mutation](rng, base.msgType, base.body, ctx) };
}

/** One mutated Logon for a connection that has not logged on. */
export function fuzzLogon(rng: Rng, ctx: FuzzContext): { mutation: string; bytes: string } {
  const mutation = pickMutation(rng);
  return { mutation, bytes: MUTATIONS[mutation](rng, 'A', [[98, '0'], [108, '30']], ctx) };
}
