import { FixField } from '../message';
import { checksum, pad3 } from './fix-parser';

/** Writes 8, 9, then the given fields in the order given, then 10. Values are latin1 strings. */
export function encodeFix(beginString: string, fields: readonly FixField[]): string {
  return encodeFixAfter(beginString, '', fields);
}

/**
 * encodeFix with the first fields already written as text (`written`: `tag=value<SOH>...`), e.g. a
 * session's standard header, which it then builds without a field object per tag.
 */
export function encodeFixAfter(beginString: string, written: string, fields: readonly FixField[]): string {
  let body = written;
  for (const f of fields) body += f.tag + '=' + f.value + '\x01';
  const head = '8=' + beginString + '\x019=' + body.length + '\x01';
  const msg = head + body;
  return msg + '10=' + pad3(checksum(msg, msg.length)) + '\x01';
}

/** FIX UTCTimestamp with milliseconds: YYYYMMDD-HH:MM:SS.sss */
export function utcTimestamp(d?: Date): string {
  const ms = d === undefined ? Date.now() : d.getTime();
  if (ms === lastMs) return lastText;
  const iso = new Date(ms).toISOString(); // 2026-11-21T20:19:35.123Z
  lastMs = ms;
  lastText = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + '-' + iso.slice(11, 23);
  return lastText;
}
// Many messages are stamped within the same millisecond under load: format once per ms.
let lastMs = -1;
let lastText = '';

/** Parses a FIX UTCTimestamp (seconds or milliseconds) to ms since epoch, or NaN. */
export function parseUtcTimestamp(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?$/.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, se, ms] = m;
  const month = Number(mo), day = Number(d), hour = Number(h), min = Number(mi), sec = Number(se);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return NaN;
  return Date.UTC(Number(y), month - 1, day, hour, min, sec, ms ? Number(ms) : 0);
}
