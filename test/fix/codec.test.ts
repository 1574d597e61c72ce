import { FixFramer } from '../../src/fix/codec/fix-framer';
import { parseFrame, checksum } from '../../src/fix/codec/fix-parser';
import { encodeFix, parseUtcTimestamp, utcTimestamp } from '../../src/fix/codec/fix-encoder';

const soh = (s: string) => s.replace(/\|/g, '\x01');
/** A correctly framed message from a body written with '|' (without 8, 9, 10). */
const frame = (body: string) => {
  const b = soh(body);
  const head = `8=FIX.4.2\x019=${b.length}\x01`;
  const cs = checksum(head + b, (head + b).length);
  return `${head}${b}10=${String(cs).padStart(3, '0')}\x01`;
};

describe('FixFramer splits a byte stream as QuickFIX does', () => {
  test('complete messages in one chunk, and a message split across chunks', () => {
    const a = frame('35=0|34=2|49=A|52=20260101-00:00:00|56=B|');
    const b = frame('35=1|34=3|49=A|52=20260101-00:00:00|56=B|112=X|');
    const f = new FixFramer();
    expect(f.push(a + b.slice(0, 10))).toEqual([a]);
    expect(f.push(b.slice(10, 30))).toEqual([]);
    expect(f.push(b.slice(30))).toEqual([b]);
    expect(f.pending).toBe(0);
  });

  test('noise before 8=FIX is dropped', () => {
    const a = frame('35=0|34=2|49=A|52=20260101-00:00:00|56=B|');
    expect(new FixFramer().push('garbage\x01' + a)).toEqual([a]);
  });

  test('a BodyLength that is too long swallows the next message, like QuickFIX (2m)', () => {
    const good = frame('35=1|34=5|49=A|52=20260101-00:00:00|56=B|112=a-test-request-id-long-enough-to-cover-the-body|');
    const bad = soh('8=FIX.4.2|9=111|35=0|34=4|49=A|52=20260101-00:00:00|56=B|10=000|');
    const f = new FixFramer();
    expect(f.push(bad)).toEqual([]); // waits for 111 bytes
    const out = f.push(good);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(bad + good);
    expect(parseFrame(out[0]).ok).toBe(false);
  });

  test('a BodyLength that is too short still ends at the next CheckSum field', () => {
    const bad = soh('8=FIX.4.2|9=5|35=0|34=4|49=A|52=20260101-00:00:00|56=B|10=000|');
    expect(new FixFramer().push(bad)).toEqual([bad]);
  });
});

describe('parseFrame integrity checks (garbled messages are ignored, not rejected)', () => {
  const ok = frame('35=D|34=2|49=A|52=20260101-00:00:00|56=B|11=X|');
  test('a correct frame parses into fields in wire order', () => {
    const r = parseFrame(ok);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.message.fields.map((f) => f.tag)).toEqual([8, 9, 35, 34, 49, 52, 56, 11, 10]);
      expect(r.message.get(11)).toBe('X');
      expect(r.message.seqNum).toBe(2);
    }
  });
  test.each([
    ['bad checksum', ok.replace(/10=\d{3}/, (m) => `10=${String((Number(m.slice(3)) + 1) % 256).padStart(3, '0')}`)],
    ['bad body length', ok.replace('9=', '9=1')],
    ['35 not third', soh('8=FIX.4.2|9=5|34=2|35=0|10=000|')],
    ['non-numeric tag', ok.replace('49=A', '4x9=A')],
    ['checksum not 3 digits', ok.replace(/10=(\d{3})/, '10=$1 ')],
  ])('%s → not ok', (_name, raw) => {
    expect(parseFrame(raw).ok).toBe(false);
  });
  test('tags are read as numbers whatever their form: leading zeros, 16+ digits, a sign; the reasons stay exact', () => {
    const r = parseFrame(frame('35=D|034=2|49=A|52=20260101-00:00:00|56=B|1234567890123456=x|-5=y|'));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.message.fields.slice(3, 9).map((f) => f.tag)).toEqual([34, 49, 52, 56, 1234567890123456, -5]);
    expect(parseFrame(frame('35=D|34=2|4x9=A|'))).toEqual({ ok: false, reason: 'bad tag "4x9"' });
    expect(parseFrame(frame('35=D|34=2|=A|'))).toEqual({ ok: false, reason: 'bad tag ""' });
    expect(parseFrame(frame('35=D|34=2|49A|56=B|'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^malformed field at offset \d+$/) });
  });
  test('a data field may contain SOH when its length field says so', () => {
    const raw = frame('35=A|34=1|49=A|52=20260101-00:00:00|56=B|95=3|96=a\x01b|98=0|108=30|');
    const r = parseFrame(raw);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.message.get(96)).toBe('a\x01b');
  });
});

describe('encoder', () => {
  test('encodeFix writes BodyLength and CheckSum that parseFrame accepts', () => {
    const raw = encodeFix('FIX.4.2', [
      { tag: 35, value: '0' },
      { tag: 34, value: '7' },
      { tag: 49, value: 'ISLD' },
      { tag: 52, value: utcTimestamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))) },
      { tag: 56, value: 'TW' },
    ]);
    expect(raw).toContain('\x0152=20260102-03:04:05.006\x01');
    expect(parseFrame(raw).ok).toBe(true);
  });
  test('UTCTimestamp with and without milliseconds; invalid ones are NaN', () => {
    expect(parseUtcTimestamp('20260102-03:04:05')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(parseUtcTimestamp('20260102-03:04:05.250')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 250));
    expect(parseUtcTimestamp('20261302-03:04:05')).toBeNaN();
    expect(parseUtcTimestamp('2026010-03:04:05')).toBeNaN();
  });
});
