import { FixField, FixMessage } from '../message';

/** FIX 4.2 Length fields and the data field each one announces. */
const DATA_FIELD_FOR_LENGTH = new Map<number, number>([
  [90, 91], [95, 96], [212, 213], [93, 89], [348, 349], [350, 351], [352, 353], [354, 355],
  [356, 357], [358, 359], [360, 361], [362, 363], [364, 365],
]);

const MIN_LENGTH_TAG = Math.min(...DATA_FIELD_FOR_LENGTH.keys());
const MAX_LENGTH_TAG = Math.max(...DATA_FIELD_FOR_LENGTH.keys());

export type ParseResult = { ok: true; message: FixMessage } | { ok: false; reason: string };

/**
 * Integrity check of one frame (QuickFIX "garbled" rules): 8, 9, 35 first and in that order,
 * BodyLength exact, CheckSum correct and last, every field `digits=value`. A frame that fails is
 * ignored by the session without consuming a sequence number.
 */
export function parseFrame(raw: string): ParseResult {
  const trailer = raw.lastIndexOf('\x0110=');
  if (trailer < 0 || raw.charCodeAt(raw.length - 1) !== 1) return { ok: false, reason: 'no CheckSum field' };
  const fields: FixField[] = [];
  let pos = 0;
  const n = raw.length;
  let dataTag = 0;
  let dataLength = 0;
  while (pos < n) {
    // The usual field, `digits=`: the tag read as it is scanned; anything else takes the checks below.
    let eq = pos;
    let tag = 0;
    let c = raw.charCodeAt(eq);
    while (c >= 48 && c <= 57 && eq - pos < 15) {
      tag = tag * 10 + (c - 48);
      c = raw.charCodeAt(++eq);
    }
    let soh: number;
    if (c === 61 /* = */ && eq > pos) {
      soh = raw.indexOf('\x01', eq + 1);
      if (soh < 0) return { ok: false, reason: `malformed field at offset ${pos}` };
    } else {
      eq = raw.indexOf('=', pos);
      soh = raw.indexOf('\x01', pos);
      if (eq < 0 || soh < 0 || eq > soh) return { ok: false, reason: `malformed field at offset ${pos}` };
      const tagText = raw.slice(pos, eq);
      if (!/^-?\d+$/.test(tagText)) return { ok: false, reason: `bad tag "${tagText}"` };
      tag = Number(tagText);
    }
    // A data field's value may contain SOH: its length comes from the preceding length field.
    if (tag === dataTag && eq + 1 + dataLength < n && raw.charCodeAt(eq + 1 + dataLength) === 1) soh = eq + 1 + dataLength;
    const value = raw.slice(eq + 1, soh);
    fields.push({ tag, value });
    const d = tag >= MIN_LENGTH_TAG && tag <= MAX_LENGTH_TAG ? DATA_FIELD_FOR_LENGTH.get(tag) : undefined;
    if (d !== undefined && /^\d+$/.test(value)) {
      dataTag = d;
      dataLength = Number(value);
    } else dataTag = 0;
    pos = soh + 1;
  }
  if (fields.length < 4 || fields[0].tag !== 8 || fields[1].tag !== 9 || fields[2].tag !== 35) {
    return { ok: false, reason: 'first three fields are not 8, 9, 35' };
  }
  const last = fields[fields.length - 1];
  if (last.tag !== 10) return { ok: false, reason: 'CheckSum is not the last field' };
  const bodyStart = raw.indexOf('\x01', raw.indexOf('\x019=') + 1) + 1;
  const declared = fields[1].value;
  if (!/^\d+$/.test(declared) || Number(declared) !== trailer + 1 - bodyStart) {
    return { ok: false, reason: `BodyLength ${declared} but body is ${trailer + 1 - bodyStart}` };
  }
  if (!/^\d{3}$/.test(last.value) || Number(last.value) !== checksum(raw, trailer + 1)) {
    return { ok: false, reason: `CheckSum ${last.value} but computed ${pad3(checksum(raw, trailer + 1))}` };
  }
  return { ok: true, message: new FixMessage(raw, fields) };
}

export function checksum(s: string, end: number): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += s.charCodeAt(i);
  return sum & 0xff;
}

export function pad3(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : String(n);
}
