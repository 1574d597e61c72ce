// Dictionary validation of an inbound message, in the order QuickFIX applies its checks, so that
// the first problem reported (and hence 371/373 of the Reject) is the one a QuickFIX peer expects:
// structure (header/body/trailer order), MsgType, required fields, then every field in tag order
// (header, trailer, body, then group entries): repeated, empty, format, enum, known tag, allowed
// for the message type, NumInGroup count.
import { FixField, FixMessage } from './message';
import { FixDictionary, GroupSpec, MessageSpec } from './dictionary';

/** SessionRejectReason (373) values. 13, 14 and 16 do not exist in FIX 4.2 and are not sent. */
export const RejectReason = {
  InvalidTagNumber: 0,
  RequiredTagMissing: 1,
  TagNotDefinedForMsgType: 2,
  UndefinedTag: 3,
  TagWithoutValue: 4,
  ValueOutOfRange: 5,
  IncorrectDataFormat: 6,
  DecryptionProblem: 7,
  SignatureProblem: 8,
  CompIdProblem: 9,
  SendingTimeAccuracy: 10,
  InvalidMsgType: 11,
  RepeatedTag: 13,
  TagOutOfOrder: 14,
  GroupCountMismatch: 16,
} as const;

/** QuickFIX's Text (58) for each reason. */
export const REJECT_TEXT: Record<number, string> = {
  0: 'Invalid tag number',
  1: 'Required tag missing',
  2: 'Tag not defined for this message type',
  3: 'Undefined Tag',
  4: 'Tag specified without a value',
  5: 'Value is incorrect (out of range) for this tag',
  6: 'Incorrect data format for value',
  7: 'Decryption problem',
  8: 'Signature problem',
  9: 'CompID problem',
  10: 'SendingTime accuracy problem',
  11: 'Invalid MsgType',
  13: 'Tag appears more than once',
  14: 'Tag specified out of required order',
  16: 'Incorrect NumInGroup count for repeating group',
};

export class SessionReject {
  constructor(
    readonly reason: number,
    /** RefTagID (371); undefined when the problem is not about one tag. */
    readonly refTagId: number | undefined,
    readonly text: string = REJECT_TEXT[reason],
  ) {}
}

interface GroupInstance {
  spec: GroupSpec;
  entries: FixField[][];
  nested: GroupInstance[];
}

const INT_RE = /^-?\d+$/;
const FLOAT_RE = /^-?(?:\d+\.?\d*|\.\d+)$/;
const TIMESTAMP_RE = /^\d{8}-\d{2}:\d{2}:\d{2}(?:\.\d{3})?$/;
const TIMEONLY_RE = /^\d{2}:\d{2}:\d{2}(?:\.\d{3})?$/;
const DATE_RE = /^\d{8}$/;

function validFormat(type: string, v: string): boolean {
  switch (type) {
    case 'INT':
    case 'LENGTH':
    case 'NUMINGROUP':
    case 'SEQNUM':
    case 'DAYOFMONTH':
      return INT_RE.test(v);
    case 'FLOAT':
    case 'PRICE':
    case 'QTY':
    case 'AMT':
    case 'PRICEOFFSET':
    case 'PERCENTAGE':
      return FLOAT_RE.test(v);
    case 'CHAR':
      return v.length === 1;
    case 'BOOLEAN':
      return v === 'Y' || v === 'N';
    case 'UTCTIMESTAMP':
      return TIMESTAMP_RE.test(v) && validDateTime(v);
    case 'UTCTIMEONLY':
      return TIMEONLY_RE.test(v);
    case 'UTCDATE':
      return DATE_RE.test(v);
    default:
      return true;
  }
}

function validDateTime(v: string): boolean {
  const mo = Number(v.slice(4, 6)), d = Number(v.slice(6, 8));
  const h = Number(v.slice(9, 11)), mi = Number(v.slice(12, 14)), s = Number(v.slice(15, 17));
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60;
}

export class MessageValidator {
  constructor(private readonly dict: FixDictionary) {}

  /** Returns the first problem, or undefined when the message is valid. */
  validate(msg: FixMessage): SessionReject | undefined {
    const dict = this.dict;
    const fields = msg.fields;
    const header: FixField[] = [];
    const body: FixField[] = [];
    const trailer: FixField[] = [];
    // 1. structure: header fields first, then body, then trailer
    let section = 0; // 0 header, 1 body, 2 trailer
    let outOfOrder: number | undefined;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (i < 3 || dict.headerTags.has(f.tag)) {
        if (section !== 0 && outOfOrder === undefined) outOfOrder = f.tag;
        header.push(f);
      } else if (dict.trailerTags.has(f.tag)) {
        section = 2;
        trailer.push(f);
      } else {
        if (section === 2 && outOfOrder === undefined) outOfOrder = f.tag;
        section = Math.max(section, 1);
        body.push(f);
      }
    }
    if (outOfOrder !== undefined) return new SessionReject(RejectReason.TagOutOfOrder, outOfOrder);

    // 2. message type
    const spec = dict.messages.get(msg.msgType);
    if (spec === undefined) return new SessionReject(RejectReason.InvalidMsgType, undefined);

    // 3. split groups out of the body
    const top: FixField[] = [];
    const groups: GroupInstance[] = [];
    this.splitGroups(body, spec.groups, top, groups);

    // 4. required fields
    for (const t of dict.headerRequired) if (!hasTag(header, t)) return new SessionReject(RejectReason.RequiredTagMissing, t);
    for (const t of dict.trailerRequired) if (!hasTag(trailer, t)) return new SessionReject(RejectReason.RequiredTagMissing, t);
    for (const t of spec.required) if (!hasTag(top, t)) return new SessionReject(RejectReason.RequiredTagMissing, t);
    const missing = requiredInGroups(groups);
    if (missing !== undefined) return new SessionReject(RejectReason.RequiredTagMissing, missing);

    // 5. every field, in tag order per section
    return (
      this.iterate(header, spec, true) ??
      this.iterate(trailer, spec, true) ??
      this.iterate(top, spec, false, groups) ??
      this.iterateGroups(groups)
    );
  }

  private splitGroups(fields: FixField[], specs: ReadonlyMap<number, GroupSpec>, top: FixField[], out: GroupInstance[]): void {
    let i = 0;
    while (i < fields.length) {
      const f = fields[i];
      top.push(f);
      i++;
      const g = specs.get(f.tag);
      if (g !== undefined) i = this.readGroup(fields, i, g, out);
    }
  }

  /** Reads entries of group g starting at fields[i]; returns the index after the group. */
  private readGroup(fields: FixField[], i: number, g: GroupSpec, out: GroupInstance[]): number {
    const inst: GroupInstance = { spec: g, entries: [], nested: [] };
    out.push(inst);
    let entry: FixField[] | undefined;
    let seen = new Set<number>();
    while (i < fields.length && g.memberSet.has(fields[i].tag)) {
      const f = fields[i];
      if (f.tag === g.delimiter) {
        entry = [];
        seen = new Set();
        inst.entries.push(entry);
      } else if (entry === undefined || seen.has(f.tag)) {
        break; // a member before any delimiter, or repeated without one, is not part of this group
      }
      entry.push(f);
      seen.add(f.tag);
      i++;
      const nested = g.groups.get(f.tag);
      if (nested !== undefined) i = this.readGroup(fields, i, nested, inst.nested);
    }
    return i;
  }

  private iterate(list: FixField[], spec: MessageSpec, headerOrTrailer: boolean, groups?: GroupInstance[]): SessionReject | undefined {
    // A list out of tag order (every header: 8, 9, 35, 49, 56, 34, 52) is checked first as it is,
    // without a sorted copy: a valid one (nearly all) is done. One with a problem is checked again
    // in tag order below, so the problem reported is the one the tag order meets first, as always.
    if (list.length > 1 && list.length <= IN_PLACE_MAX_FIELDS && !isSortedByTag(list) && this.validInPlace(list, spec, headerOrTrailer, groups)) {
      return undefined;
    }
    const sorted = list.length > 1 ? stableSortByTag(list) : list;
    let last = Number.NaN;
    for (const f of sorted) {
      const r = this.checkField(f, last);
      if (r) return r;
      last = f.tag;
      if (!headerOrTrailer) {
        if (!spec.fields.has(f.tag)) return new SessionReject(RejectReason.TagNotDefinedForMsgType, f.tag);
        const g = spec.groups.get(f.tag);
        if (g !== undefined && groups !== undefined) {
          const inst = groups.find((x) => x.spec === g);
          const count = inst ? inst.entries.length : 0;
          if (Number(f.value) !== count) return new SessionReject(RejectReason.GroupCountMismatch, f.tag);
        }
      }
    }
    return undefined;
  }

  /** True when iterate() would find nothing wrong: the same checks in wire order, duplicates by scan. */
  private validInPlace(list: FixField[], spec: MessageSpec, headerOrTrailer: boolean, groups?: GroupInstance[]): boolean {
    for (let i = 0; i < list.length; i++) {
      const f = list[i];
      for (let j = 0; j < i; j++) if (list[j].tag === f.tag) return false;
      if (this.checkField(f, Number.NaN)) return false;
      if (!headerOrTrailer) {
        if (!spec.fields.has(f.tag)) return false;
        const g = spec.groups.get(f.tag);
        if (g !== undefined && groups !== undefined) {
          const inst = groups.find((x) => x.spec === g);
          if (Number(f.value) !== (inst ? inst.entries.length : 0)) return false;
        }
      }
    }
    return true;
  }

  private iterateGroups(groups: GroupInstance[]): SessionReject | undefined {
    for (const g of groups) {
      for (const entry of g.entries) {
        let last = Number.NaN;
        for (const f of entry) {
          const r = this.checkField(f, last);
          if (r) return r;
          last = f.tag;
          const nested = g.spec.groups.get(f.tag);
          if (nested !== undefined) {
            const inst = g.nested.find((x) => x.spec === nested);
            if (Number(f.value) !== (inst ? inst.entries.length : 0)) return new SessionReject(RejectReason.GroupCountMismatch, f.tag);
          }
        }
      }
      const r = this.iterateGroups(g.nested);
      if (r) return r;
    }
    return undefined;
  }

  private checkField(f: FixField, previousTag: number): SessionReject | undefined {
    if (f.tag === previousTag) return new SessionReject(RejectReason.RepeatedTag, f.tag);
    if (f.value.length === 0) return new SessionReject(RejectReason.TagWithoutValue, f.tag);
    const def = this.dict.fields.get(f.tag);
    if (def === undefined) return new SessionReject(RejectReason.InvalidTagNumber, f.tag);
    if (!validFormat(def.type, f.value)) return new SessionReject(RejectReason.IncorrectDataFormat, f.tag);
    if (def.enums !== undefined) {
      if (def.type === 'MULTIPLEVALUESTRING') {
        for (const v of f.value.split(' ')) if (!def.enums.has(v)) return new SessionReject(RejectReason.ValueOutOfRange, f.tag);
      } else if (!def.enums.has(f.value)) return new SessionReject(RejectReason.ValueOutOfRange, f.tag);
    }
    return undefined;
  }
}

function hasTag(list: FixField[], tag: number): boolean {
  for (const f of list) if (f.tag === tag) return true;
  return false;
}

function requiredInGroups(groups: GroupInstance[]): number | undefined {
  for (const g of groups) {
    for (const e of g.entries) for (const t of g.spec.required) if (!hasTag(e, t)) return t;
    const n = requiredInGroups(g.nested);
    if (n !== undefined) return n;
  }
  return undefined;
}

/** Longest list validInPlace scans for duplicates pairwise (n²/2 compares); longer ones are sorted. */
const IN_PLACE_MAX_FIELDS = 32;

function isSortedByTag(list: FixField[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i].tag < list[i - 1].tag) return false;
  return true;
}

/** The fields in tag order, equal tags in their wire order; the list itself when already in order (most bodies). */
function stableSortByTag(list: FixField[]): FixField[] {
  for (let i = 1; i < list.length; i++) {
    // Array.prototype.sort is stable (ES2019): no index tie-break needed.
    if (list[i].tag < list[i - 1].tag) return list.slice().sort((a, b) => a.tag - b.tag);
  }
  return list;
}
