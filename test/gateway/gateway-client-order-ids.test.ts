// Gateway-level (fake venue, no sockets): the client order id the gateway allocates follows the
// venue's declared scheme (capabilities.clientOrderId), the counters are durable across restarts,
// and ExecIDs stay on the gateway's own id whatever the venue gets.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { createOrder } from '../../src/gateway/order';
import { OutcomeUnknown, PlaceOrderRequest } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(15_000);
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const placed = (venue: FakeVenueAdapter) => venue.calls.filter((c) => c.op === 'placeOrder').map((c) => c.arg as PlaceOrderRequest);
const acked = (h: Harness, clOrdId: string) => h.session.until((s) => s.some((m) => m.get(11) === clOrdId && m.get(150) === '0'), 3000, `150=0 for ${clOrdId}`);

test('string scheme: the venue gets the gateway id, at most maxLength characters', async () => {
  const venue = new FakeVenueAdapter({ clientOrderId: { kind: 'string', maxLength: 12 } });
  h = await startHarness({ venue, venueIdPrefix: 'LONGPREFIX99' });
  await h.deliver(nos('S1'));
  await acked(h, 'S1');
  const [req] = placed(venue);
  const order = h.book.get('S1')!;
  expect(req.clientOrderId).toBe(order.venueClientOrderId);
  expect(order.wireClientOrderId).toBe(order.venueClientOrderId);
  expect(req.clientOrderId!.length).toBeLessThanOrEqual(12);
});

test('integer scheme: integers in the range, never one an order in the book holds, never reused after a restart', async () => {
  const venue = new FakeVenueAdapter({ clientOrderId: { kind: 'integer', min: 1, max: 5 } });
  h = await startHarness({ venue });
  for (const id of ['I1', 'I2', 'I3']) {
    await h.deliver(nos(id));
    await acked(h, id);
  }
  const first = placed(venue).map((r) => Number(r.clientOrderId));
  for (const n of first) expect(n >= 1 && n <= 5).toBe(true);
  expect(new Set(first).size).toBe(3);
  // The wire id is indexed in the book.
  expect(h.book.byWireClientOrderId(String(first[1]))?.clOrdId).toBe('I2');
  // ExecIDs stay on the gateway's unique id, not on the small integer.
  const ack = h.session.about('I1').find((m) => m.get(150) === '0')!;
  expect(ack.get(17)).toContain(h.book.get('I1')!.venueClientOrderId);
  const dir = h.dir;
  await h.close(true);
  h = await startHarness({ venue, dir });
  await h.deliver(nos('I4'));
  await h.deliver(nos('I5'));
  await acked(h, 'I5');
  const all = placed(venue).map((r) => Number(r.clientOrderId));
  // Five values, five orders still in the book: all distinct.
  expect(new Set(all).size).toBe(5);
  // A sixth has no free value: refused with a Text, nothing placed.
  await h.deliver(nos('I6'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'I6' && m.get(150) === '8'), 3000, '150=8 for I6');
  expect(h.session.about('I6')[0].get(58)).toMatch(/No client order id available/);
  expect(placed(venue)).toHaveLength(5);
});

test('integer scheme, two sessions on one account: each draws from its own slice of the range, so no id can name both sessions\' orders, even across restarts', async () => {
  const venueA = new FakeVenueAdapter({ clientOrderId: { kind: 'integer', min: 1, max: 8 } });
  const venueB = new FakeVenueAdapter({ clientOrderId: { kind: 'integer', min: 1, max: 8 } });
  const a = await startHarness({ venue: venueA, integerIdPartition: { index: 0, count: 2 } });
  const b = await startHarness({ venue: venueB, integerIdPartition: { index: 1, count: 2 } });
  try {
    for (let i = 0; i < 4; i++) {
      await a.deliver(nos(`A${i}`));
      await b.deliver(nos(`B${i}`));
    }
    await acked(a, 'A3');
    await acked(b, 'B3');
    const ofA = placed(venueA).map((r) => Number(r.clientOrderId));
    const ofB = placed(venueB).map((r) => Number(r.clientOrderId));
    expect([...ofA].sort()).toEqual([1, 2, 3, 4]);
    expect([...ofB].sort()).toEqual([5, 6, 7, 8]);
    // Its slice full, a session refuses rather than borrow from the other's.
    await a.deliver(nos('A4'));
    await a.session.until((s) => s.some((m) => m.get(11) === 'A4' && m.get(150) === '8'), 3000, '150=8 for A4');
    expect(placed(venueA)).toHaveLength(4);
  } finally {
    await a.close();
    await b.close();
  }
});

test('venue-format scheme: the adapter formats the id from the session tag and a durable sequence at or above 1000 × the clock', async () => {
  const venue = new FakeVenueAdapter({ clientOrderId: { kind: 'venue-format' } });
  h = await startHarness({ venue, venueIdPrefix: 'TAG' });
  const before = Date.now();
  await h.deliver(nos('V1'));
  await acked(h, 'V1');
  const dir = h.dir;
  await h.close(true);
  h = await startHarness({ venue, dir, venueIdPrefix: 'TAG' });
  await h.deliver(nos('V2'));
  await acked(h, 'V2');
  const [a, b] = placed(venue).map((r) => r.clientOrderId!);
  const seq = (id: string) => Number(id.split('.')[1]);
  expect(a.startsWith('TAG.')).toBe(true);
  expect(seq(a)).toBeGreaterThanOrEqual(before * 1000);
  expect(seq(b)).toBeGreaterThan(seq(a));
  expect(h.book.byWireClientOrderId(b)?.clOrdId).toBe('V2');
});

test('none scheme: no client order id goes to the venue; the venue id from the create reply is in the durable book at once', async () => {
  const venue = new FakeVenueAdapter({ clientOrderId: { kind: 'none' } });
  h = await startHarness({ venue });
  await h.deliver(nos('N1'));
  await acked(h, 'N1');
  const [req] = placed(venue);
  expect(req.clientOrderId).toBeUndefined();
  const venueOrderId = h.book.get('N1')!.venueOrderId!;
  expect(venueOrderId).toBeDefined();
  expect(h.book.get('N1')!.wireClientOrderId).toBeNull();
  const dir = h.dir;
  await h.close(true);
  h = await startHarness({ venue, dir });
  expect(h.book.byVenueOrderId(venueOrderId)?.clOrdId).toBe('N1');
});

test('absence proof comes from the venue capability: "not found" must last absenceProofMs before the reject', async () => {
  const venue = new FakeVenueAdapter({ absenceProofMs: 1_200 });
  h = await startHarness({ venue });
  venue.script('placeOrder', { fail: new OutcomeUnknown('timeout') });
  const t0 = Date.now();
  await h.deliver(nos('P1'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'P1' && m.get(150) === '8'), 5000, '150=8 for P1');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1_200);
  expect(h.session.about('P1')[1].get(58)).toMatch(/not found/);
});

test('a network error during resolution never counts as "not found": the proof clock restarts', async () => {
  const venue = new FakeVenueAdapter({ absenceProofMs: 600 });
  h = await startHarness({ venue });
  venue.script('placeOrder', { fail: new OutcomeUnknown('timeout') });
  // not found, then the venue unreachable for a while, then not found again.
  venue.script('getOrder', 'default', { fail: new OutcomeUnknown('502') }, { fail: new OutcomeUnknown('502') }, { fail: new OutcomeUnknown('502') });
  await h.deliver(nos('P2'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'P2' && m.get(150) === '8'), 8000, '150=8 for P2');
  // The reject came only after 600 ms of uninterrupted "not found" following the errors.
  const calls = venue.calls.filter((c) => c.op === 'getOrder').length;
  expect(calls).toBeGreaterThanOrEqual(6);
});

describe('FileOrderBook counters', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ids-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('integer ids wrap within the range and skip values held by orders in the book', async () => {
    const book = new FileOrderBook(dir, 'S');
    await book.open();
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push(book.nextIntegerId(10, 12));
    expect([...got].sort()).toEqual([10, 11, 12]);
    await book.save(createOrder({ clOrdId: 'A', venueClientOrderId: 'g-1', wireClientOrderId: String(got[0]), symbol: 'X', side: '1', ordType: '2', timeInForce: '1', orderQty: '1', price: '1' }, Date.now()));
    // Wrapped: the held value is skipped.
    const next = [book.nextIntegerId(10, 12), book.nextIntegerId(10, 12)];
    expect(next).not.toContain(got[0]);
    await book.close();
  });

  test('integer ids resume past the journaled reservation after a restart (a crash never hands out a value twice)', async () => {
    const book = new FileOrderBook(dir, 'S');
    await book.open();
    const first = book.nextIntegerId(1, 1_000_000);
    const second = book.nextIntegerId(1, 1_000_000);
    expect(second).toBe(first + 1);
    await tick(5);
    await book.close();
    const again = new FileOrderBook(dir, 'S');
    await again.open();
    // The first allocation reserved a block of 1000 values; a restart starts after it.
    expect(again.nextIntegerId(1, 1_000_000)).toBe(first + 1000);
    await again.close();
  });

  test('the sequence never goes backwards across a restart, even when the clock does', async () => {
    let now = 2_000_000_000_000;
    const book = new FileOrderBook(dir, 'S', { now: () => now });
    await book.open();
    const a = book.nextSequence();
    const b = book.nextSequence();
    expect(a).toBe(now * 1000);
    expect(b).toBe(a + 1);
    await tick(5);
    await book.close();
    now -= 60_000;
    const again = new FileOrderBook(dir, 'S', { now: () => now });
    await again.open();
    expect(again.nextSequence()).toBeGreaterThan(b);
    await again.close();
  });
});
