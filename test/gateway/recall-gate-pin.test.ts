// A message that waits its turn at the RecallGate needs the orders it names in memory when its
// handler runs. Recalling them again at its turn (recall-gate-eviction.test.ts) is not enough: the
// book may sweep an order out again after any recall, before the handler. The gate pins the ids of
// a waiting message until its handler has run, and the sweep passes pinned orders over.
// Unit level: the real FileOrderBook (journal, grace period, sweep on save) and RecallGate; the
// interleaving is controlled through the book's clock and a recall that can be held.
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileOrderBook, RecallIds } from '../../src/gateway/file-order-book';
import { GatewayOrder, createOrder } from '../../src/gateway/order';
import { RecallGate } from '../../src/gateway/recall-gate';

const GRACE_MS = 1_000;
let dir: string;
let book: FileOrderBook | undefined;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'recall-pin-'));
});
afterEach(async () => {
  await book?.close().catch(() => undefined);
  book = undefined;
  await fsp.rm(dir, { recursive: true, force: true });
});

const order = (n: number, at: number, over: Partial<GatewayOrder> = {}): GatewayOrder => ({
  ...createOrder({ clOrdId: `C${n}`, venueClientOrderId: `k${n}`, symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '2', price: '100' }, at),
  venueOrderId: `V${n}`,
  ...over,
});
const tick = () => new Promise((r) => setTimeout(r, 1));

/**
 * A book with orders 1 and 2 canceled and out of memory, order 9 open (its saves make the book
 * sweep). `holdRecallOf(clOrdId)` makes the recall of that ClOrdID wait until `release()`;
 * `afterRecall` runs when a recall has read its orders back, before the caller hears of it.
 */
async function setUp() {
  const clock = { now: 1_000_000 };
  const b = new FileOrderBook(dir, 'PIN', { now: () => clock.now, evictAfterMs: GRACE_MS });
  book = b;
  await b.open();
  await b.save(order(9, clock.now, { status: '0', acked: true }));
  for (const n of [1, 2]) await b.save(order(n, clock.now, { status: '4', acked: true }));
  const sweep = async () => {
    clock.now += GRACE_MS + 1;
    await b.save(order(9, clock.now, { status: '0', acked: true, updatedAt: clock.now }));
    await tick();
  };
  await sweep();
  expect(b.latestWithClOrdId('C1')).toBeUndefined();
  expect(b.latestWithClOrdId('C2')).toBeUndefined();
  let held: { clOrdId: string; gate: Promise<void>; release: () => void } | undefined;
  const hooks = { afterRecall: async (_ids: RecallIds) => undefined as void };
  const recall = (ids: RecallIds): Promise<void> | undefined => {
    const p = b.recall(ids);
    if (p === undefined) return undefined;
    const h = held !== undefined && ids.clOrdIds?.includes(held.clOrdId) ? held.gate : undefined;
    return p.then(() => h).then(() => hooks.afterRecall(ids));
  };
  return {
    b,
    sweep,
    recall,
    hooks,
    holdRecallOf: (clOrdId: string) => {
      let release!: () => void;
      held = { clOrdId, gate: new Promise<void>((r) => (release = r)), release: () => release() };
    },
    release: () => held?.release(),
  };
}

test('an order recalled for a message that waits its turn stays in memory through a sweep past its grace period', async () => {
  const { b, sweep, recall, holdRecallOf, release } = await setUp();
  const gate = new RecallGate({ recall, pin: (ids) => b.pin(ids) }, (err) => {
    throw err;
  });
  holdRecallOf('C2');
  const seen: (string | undefined)[] = [];
  const first = gate.run({ clOrdIds: ['C2'] }, () => seen.push(b.latestWithClOrdId('C2')?.status));
  const second = gate.run({ clOrdIds: ['C1'] }, () => seen.push(b.latestWithClOrdId('C1')?.status));
  for (let i = 0; i < 100 && b.latestWithClOrdId('C1') === undefined; i++) await tick();
  expect(b.latestWithClOrdId('C1')?.status).toBe('4'); // recalled, its message waiting behind C2's
  await sweep(); // C1's grace period is over again
  expect(b.latestWithClOrdId('C1')?.status).toBe('4'); // pinned: its message has not been handled
  release();
  await Promise.all([first, second]);
  expect(seen).toEqual(['4', '4']);
  // Handled: no longer pinned, it leaves at the next sweep.
  await sweep();
  expect(b.latestWithClOrdId('C1')).toBeUndefined();
});

test('an order swept out again right after each of its recalls: the handler still finds it', async () => {
  const { b, sweep, recall, hooks, holdRecallOf, release } = await setUp();
  const gate = new RecallGate({ recall, pin: (ids) => b.pin(ids) }, (err) => {
    throw err;
  });
  holdRecallOf('C2');
  // Every recall of C1 is followed, before the gate hears of it, by a save after the grace period.
  hooks.afterRecall = async (ids) => {
    if (ids.clOrdIds?.includes('C1')) await sweep();
  };
  const seen: (string | undefined)[] = [];
  const first = gate.run({ clOrdIds: ['C2'] }, () => seen.push(b.latestWithClOrdId('C2')?.status));
  const second = gate.run({ clOrdIds: ['C1'] }, () => seen.push(b.latestWithClOrdId('C1')?.status));
  await tick();
  release();
  await Promise.all([first, second]);
  expect(seen).toEqual(['4', '4']);
});

test('a message handled at once (nothing to recall, nothing waiting) pins nothing', async () => {
  const { b, sweep, recall } = await setUp();
  const gate = new RecallGate({ recall, pin: (ids) => b.pin(ids) }, (err) => {
    throw err;
  });
  await b.save(order(3, Date.now(), { status: '4', acked: true }));
  expect(gate.run({ clOrdIds: ['C3'] }, () => b.latestWithClOrdId('C3')?.status)).toBe('4');
  await sweep();
  expect(b.latestWithClOrdId('C3')).toBeUndefined();
});

describe('RecallGate when the book throws at a message\'s turn (review)', () => {
  test('the pin is released and the messages behind it still run', async () => {
    let calls = 0;
    const pins = new Map<string, number>();
    let releaseFirst!: () => void;
    const stub = {
      recall: (ids: RecallIds): Promise<void> | undefined => {
        calls++;
        if (calls === 1) return new Promise<void>((r) => (releaseFirst = r));
        if (calls === 3) throw new Error('index read failed');
        void ids;
        return undefined;
      },
      pin: (ids: RecallIds) => {
        const id = ids.clOrdIds![0];
        pins.set(id, (pins.get(id) ?? 0) + 1);
        return () => pins.set(id, pins.get(id)! - 1);
      },
    };
    const gate = new RecallGate(stub, () => undefined);
    const handled: string[] = [];
    const first = Promise.resolve(gate.run({ clOrdIds: ['A'] }, () => handled.push('A'))).catch(() => undefined);
    const second = Promise.resolve(gate.run({ clOrdIds: ['B'] }, () => handled.push('B'))).catch(() => undefined);
    releaseFirst();
    await Promise.race([Promise.all([first, second]), new Promise((r) => setTimeout(r, 500))]);
    expect(handled).toContain('B');
    expect([...pins.values()].every((n) => n === 0)).toBe(true);
  });
});
