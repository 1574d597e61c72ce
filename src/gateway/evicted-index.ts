// Where the order book's evicted orders lie in its journal, in typed arrays: a few tens of bytes per
// order instead of the order itself. Pure (no I/O).
//
// Each evicted order is a slot: the location of its last record (self-contained: every fill id) and
// its createdAt/updatedAt (what ClOrdID reuse and retention decide on without reading it back). Its
// ids (gateway key, ClOrdID, cancel ClOrdIDs, venue order id, wire client order id) are entries of one
// open-addressing hash table: a 64-bit hash of (kind, id) (two independent 32-bit ones) and the slot,
// 12 bytes each. The id itself is not kept, so a hit may be another id with the same hash: the owner
// reads the record back and checks before it uses the order, and a bare "is it held" answer errs on
// the side of "held". 64 bits, not 32: a bare answer is compared against every entry's hash in effect,
// so with 32 bits and a few million ids in the table (a week of evicted orders) about one lookup in a
// thousand found a false "held", and a false "held" venue order id refuses a new order's ack (see
// OrderUpdater.bindsElsewhere). With 64 bits: about 1 in 10^12 per lookup at 20 million ids.

import type { RecordLocation } from '../durable/journal';

export enum IdKind {
  /** venueClientOrderId: the book's key. */
  Key = 0,
  /** ClOrdID of the NewOrderSingle (only while the order is the one that ClOrdID names). */
  ClOrdId = 1,
  /** ClOrdID of an accepted cancel request. */
  CancelClOrdId = 2,
  VenueOrderId = 3,
  WireClientOrderId = 4,
}

const MAX_LOAD = 0.7;
/** Load right after a rebuild: at most this (a table sized for 0.35 held 1/0.175 = 6 buckets an entry after a compaction's rebuild). */
const REBUILT_LOAD = 0.5;

/** FNV-1a over the UTF-16 code units, seeded by kind, then the murmur3 finalizer (the low bits pick the bucket). */
export function idHash(kind: IdKind, id: string): number {
  let h = (0x811c9dc5 ^ Math.imul(kind + 1, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A second hash of (kind, id), independent of idHash (another mixing step and finalizer): the high 32 bits of the key. */
export function idHash2(kind: IdKind, id: string): number {
  let h = (0x6a09e667 ^ Math.imul(kind + 1, 0x85ebca77)) >>> 0;
  for (let i = 0; i < id.length; i++) {
    h = Math.imul(h ^ id.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h ^= id.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export class EvictedIndex {
  private offsets = new Float64Array(256);
  /** 0: the slot is dead (its order came back to memory, or was dropped). */
  private lengths = new Uint32Array(256);
  private created = new Float64Array(256);
  private updated = new Float64Array(256);
  private slotCount = 0;
  private liveCount = 0;
  private hashes = new Uint32Array(1024);
  private hashes2 = new Uint32Array(1024);
  /** slot + 1; 0 = empty bucket. */
  private refs = new Uint32Array(1024);
  private entries = 0;

  /** Live slots. */
  get size(): number {
    return this.liveCount;
  }

  /** Bytes held by the typed arrays. */
  get bytes(): number {
    return (
      this.offsets.byteLength + this.lengths.byteLength + this.created.byteLength + this.updated.byteLength + this.hashes.byteLength + this.hashes2.byteLength + this.refs.byteLength
    );
  }

  add(loc: RecordLocation, createdAt: number, updatedAt: number, ids: readonly (readonly [IdKind, string])[]): number {
    if (!(loc.length > 0)) throw new Error('an evicted order needs the location of its record');
    if (this.slotCount === this.offsets.length) this.growSlots(this.slotCount * 2);
    const slot = this.slotCount++;
    this.offsets[slot] = loc.offset;
    this.lengths[slot] = loc.length;
    this.created[slot] = createdAt;
    this.updated[slot] = updatedAt;
    this.liveCount++;
    for (const [kind, id] of ids) this.insert(idHash(kind, id), idHash2(kind, id), slot);
    return slot;
  }

  /** Live slots that may hold this id, newest first. */
  find(kind: IdKind, id: string): number[] {
    const h = idHash(kind, id);
    const h2 = idHash2(kind, id);
    const mask = this.hashes.length - 1;
    const out: number[] = [];
    for (let i = h & mask; this.refs[i] !== 0; i = (i + 1) & mask) {
      const slot = this.refs[i] - 1;
      if (this.hashes[i] === h && this.hashes2[i] === h2 && this.lengths[slot] !== 0 && !out.includes(slot)) out.push(slot);
    }
    return out.sort((a, b) => b - a);
  }

  /** Whether a live slot may hold this id (no false "no"; a false "yes" about (ids in the table) / 2^64). */
  has(kind: IdKind, id: string): boolean {
    const h = idHash(kind, id);
    const mask = this.hashes.length - 1;
    let h2: number | undefined;
    for (let i = h & mask; this.refs[i] !== 0; i = (i + 1) & mask) {
      if (this.hashes[i] === h && this.hashes2[i] === (h2 ??= idHash2(kind, id)) && this.lengths[this.refs[i] - 1] !== 0) return true;
    }
    return false;
  }

  /** Whether `slot` has an entry for this id. */
  slotHas(slot: number, kind: IdKind, id: string): boolean {
    return this.find(kind, id).includes(slot);
  }

  isLive(slot: number): boolean {
    return slot < this.slotCount && this.lengths[slot] !== 0;
  }

  kill(slot: number): void {
    if (!this.isLive(slot)) return;
    this.lengths[slot] = 0;
    this.liveCount--;
  }

  location(slot: number): RecordLocation {
    return { offset: this.offsets[slot], length: this.lengths[slot] };
  }

  createdAt(slot: number): number {
    return this.created[slot];
  }

  updatedAt(slot: number): number {
    return this.updated[slot];
  }

  /** Live slots, oldest first. */
  liveSlots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.slotCount; s++) if (this.lengths[s] !== 0) out.push(s);
    return out;
  }

  /**
   * After a compaction: each live slot moves to the location `moved` gives, or is dropped when it
   * gives none. Slots are renumbered (oldest first, as before); dead entries leave the table.
   */
  relocate(moved: (slot: number) => RecordLocation | undefined): void {
    const remap = new Int32Array(this.slotCount).fill(-1);
    const keep: [number, RecordLocation][] = [];
    for (let s = 0; s < this.slotCount; s++) {
      if (this.lengths[s] === 0) continue;
      const loc = moved(s);
      if (loc === undefined || !(loc.length > 0)) continue;
      remap[s] = keep.length;
      keep.push([s, loc]);
    }
    const n = keep.length;
    const cap = Math.max(256, 1 << Math.ceil(Math.log2(n + 1)));
    const offsets = new Float64Array(cap);
    const lengths = new Uint32Array(cap);
    const created = new Float64Array(cap);
    const updated = new Float64Array(cap);
    for (let i = 0; i < n; i++) {
      const [s, loc] = keep[i];
      offsets[i] = loc.offset;
      lengths[i] = loc.length;
      created[i] = this.created[s];
      updated[i] = this.updated[s];
    }
    const oldHashes = this.hashes;
    const oldHashes2 = this.hashes2;
    const oldRefs = this.refs;
    this.offsets = offsets;
    this.lengths = lengths;
    this.created = created;
    this.updated = updated;
    this.slotCount = n;
    this.liveCount = n;
    this.rehash(oldHashes, oldHashes2, oldRefs, (slot) => remap[slot]);
  }

  private insert(h: number, h2: number, slot: number): void {
    if (this.entries + 1 > this.hashes.length * MAX_LOAD) this.rehash(this.hashes, this.hashes2, this.refs, (s) => (this.lengths[s] !== 0 ? s : -1));
    const mask = this.hashes.length - 1;
    let i = h & mask;
    while (this.refs[i] !== 0) i = (i + 1) & mask;
    this.hashes[i] = h;
    this.hashes2[i] = h2;
    this.refs[i] = slot + 1;
    this.entries++;
  }

  /** Rebuilds the table from `hashes`/`hashes2`/`refs`, keeping the entries whose slot `map` gives (>= 0), under the new slot. */
  private rehash(hashes: Uint32Array, hashes2: Uint32Array, refs: Uint32Array, map: (slot: number) => number): void {
    let keep = 0;
    for (let i = 0; i < refs.length; i++) if (refs[i] !== 0 && map(refs[i] - 1) >= 0) keep++;
    const cap = Math.max(1024, 1 << Math.ceil(Math.log2((keep + 1) / REBUILT_LOAD)));
    const nh = new Uint32Array(cap);
    const nh2 = new Uint32Array(cap);
    const nr = new Uint32Array(cap);
    const mask = cap - 1;
    for (let i = 0; i < refs.length; i++) {
      if (refs[i] === 0) continue;
      const slot = map(refs[i] - 1);
      if (slot < 0) continue;
      let j = hashes[i] & mask;
      while (nr[j] !== 0) j = (j + 1) & mask;
      nh[j] = hashes[i];
      nh2[j] = hashes2[i];
      nr[j] = slot + 1;
    }
    this.hashes = nh;
    this.hashes2 = nh2;
    this.refs = nr;
    this.entries = keep;
  }

  private growSlots(cap: number): void {
    const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.offsets = grow(this.offsets, (n) => new Float64Array(n));
    this.lengths = grow(this.lengths, (n) => new Uint32Array(n));
    this.created = grow(this.created, (n) => new Float64Array(n));
    this.updated = grow(this.updated, (n) => new Float64Array(n));
  }
}
