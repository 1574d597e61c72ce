// The evicted-order index: pure logic, collisions included.
import { EvictedIndex, IdKind, idHash, idHash2 } from '../../src/gateway/evicted-index';

const loc = (i: number) => ({ offset: 1000 + i * 100, length: 90 });

test('finds a slot by each of its ids, per kind', () => {
  const x = new EvictedIndex();
  const s = x.add(loc(0), 1, 2, [
    [IdKind.Key, 'k1'],
    [IdKind.ClOrdId, 'c1'],
    [IdKind.VenueOrderId, 'v1'],
  ]);
  expect(x.find(IdKind.Key, 'k1')).toEqual([s]);
  expect(x.find(IdKind.ClOrdId, 'c1')).toEqual([s]);
  expect(x.find(IdKind.VenueOrderId, 'v1')).toEqual([s]);
  // The same text under another kind is another id.
  expect(x.find(IdKind.ClOrdId, 'k1')).toEqual([]);
  expect(x.has(IdKind.WireClientOrderId, 'v1')).toBe(false);
  expect(x.location(s)).toEqual(loc(0));
  expect([x.createdAt(s), x.updatedAt(s)]).toEqual([1, 2]);
});

test('an id held by several slots lists them newest first; dead slots are not found', () => {
  const x = new EvictedIndex();
  const a = x.add(loc(0), 1, 1, [[IdKind.ClOrdId, 'same']]);
  const b = x.add(loc(1), 2, 2, [[IdKind.ClOrdId, 'same']]);
  expect(x.find(IdKind.ClOrdId, 'same')).toEqual([b, a]);
  x.kill(b);
  expect(x.find(IdKind.ClOrdId, 'same')).toEqual([a]);
  expect(x.size).toBe(1);
  x.kill(a);
  expect(x.has(IdKind.ClOrdId, 'same')).toBe(false);
});

test('hash collisions: two ids with one 32-bit hash are told apart by the second hash (the owner still checks the record)', () => {
  // Find two different ids of one kind whose first 32-bit hashes agree (birthday search over a small space).
  const seen = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const id = `id-${i}`;
    const h = idHash(IdKind.ClOrdId, id);
    const other = seen.get(h);
    if (other !== undefined) pair = [other, id];
    else seen.set(h, id);
  }
  expect(idHash2(IdKind.ClOrdId, pair[0])).not.toBe(idHash2(IdKind.ClOrdId, pair[1]));
  const x = new EvictedIndex();
  const s = x.add(loc(0), 1, 1, [[IdKind.ClOrdId, pair[0]]]);
  const t = x.add(loc(1), 1, 1, [[IdKind.ClOrdId, pair[1]]]);
  // Both sit in one probe chain, each found only by its own id.
  expect(x.find(IdKind.ClOrdId, pair[0])).toEqual([s]);
  expect(x.find(IdKind.ClOrdId, pair[1])).toEqual([t]);
  x.kill(t);
  expect(x.has(IdKind.ClOrdId, pair[1])).toBe(false);
  expect(x.has(IdKind.ClOrdId, pair[0])).toBe(true);
  // Across kinds too: 'EahJAvmq' as a ClOrdID and '1002' as a venue order id share the first hash.
  expect(idHash(IdKind.ClOrdId, 'EahJAvmq')).toBe(idHash(IdKind.VenueOrderId, '1002'));
  x.add(loc(2), 1, 1, [[IdKind.ClOrdId, 'EahJAvmq']]);
  expect(x.has(IdKind.VenueOrderId, '1002')).toBe(false);
}, 60_000);

test('stays correct through growth: 200,000 slots, every id found, unknown ones mostly not', () => {
  const x = new EvictedIndex();
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    x.add(loc(i), i, i, [
      [IdKind.Key, `k${i}`],
      [IdKind.ClOrdId, `c${i}`],
    ]);
  }
  for (let i = 0; i < n; i += 997) {
    expect(x.find(IdKind.Key, `k${i}`)).toContain(i);
    expect(x.location(i)).toEqual(loc(i));
  }
  let false_ = 0;
  for (let i = 0; i < 10_000; i++) if (x.has(IdKind.Key, `unknown${i}`)) false_++;
  expect(false_).toBe(0);
  // A few tens of bytes per order, all arrays included.
  expect(x.bytes / n).toBeLessThan(100);
});

test('relocate moves kept slots, drops the rest and renumbers', () => {
  const x = new EvictedIndex();
  const slots = [0, 1, 2, 3].map((i) => x.add(loc(i), i, i, [[IdKind.VenueOrderId, `v${i}`]]));
  x.kill(slots[1]);
  // Slot 2 is dropped (past retention); 0 and 3 move to a new file.
  x.relocate((s) => (s === slots[2] ? undefined : { offset: 50 + s, length: 90 }));
  expect(x.size).toBe(2);
  expect(x.find(IdKind.VenueOrderId, 'v1')).toEqual([]);
  expect(x.find(IdKind.VenueOrderId, 'v2')).toEqual([]);
  const [s0] = x.find(IdKind.VenueOrderId, 'v0');
  const [s3] = x.find(IdKind.VenueOrderId, 'v3');
  expect(x.location(s0)).toEqual({ offset: 50, length: 90 });
  expect(x.location(s3)).toEqual({ offset: 53, length: 90 });
  expect(x.createdAt(s3)).toBe(3);
  expect(s0).toBeLessThan(s3); // oldest first still
});
