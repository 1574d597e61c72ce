import * as path from 'path';
import { loadDictionary, FixDictionary } from '../../src/fix/dictionary';
import { MessageValidator } from '../../src/fix/validation';
import { parseFrame, checksum } from '../../src/fix/codec/fix-parser';
import { FixMessage } from '../../src/fix/message';

let validator: MessageValidator;
let dict: FixDictionary;
beforeAll(async () => {
  dict = await loadDictionary(path.resolve(__dirname, '../../dictionaries/FIX42.xml'));
  validator = new MessageValidator(dict);
});

const HDR = '49=TW|56=ISLD|34=2|52=20260101-00:00:00|';
function msg(typeAndBody: string): FixMessage {
  const b = typeAndBody.replace(/\|/g, '\x01');
  const head = `8=FIX.4.2\x019=${b.length}\x01`;
  const raw = `${head}${b}10=${String(checksum(head + b, (head + b).length)).padStart(3, '0')}\x01`;
  const r = parseFrame(raw);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}
const NOS = '11=ID|21=1|38=100|40=1|54=1|55=INTC|60=20260101-00:00:00|';

describe('dictionary validation gives QuickFIX\'s first problem', () => {
  test('a valid NewOrderSingle passes, with header fields in any order', () => {
    expect(validator.validate(msg(`35=D|56=ISLD|34=2|49=TW|52=20260101-00:00:00|${NOS}`))).toBeUndefined();
  });
  test.each([
    ['undefined tag', `35=0|${HDR}999=HI|`, 0, 999],
    ['user-defined tag', `35=0|${HDR}5000=HI|`, 0, 5000],
    ['required body tag missing', `35=D|${HDR}11=ID|21=1|40=1|54=1|60=20260101-00:00:00|`, 1, 55],
    ['required header tag missing', `35=0|49=TW|34=2|52=20260101-00:00:00|`, 1, 56],
    ['tag not defined for the type', `35=0|${HDR}55=MSFT|`, 2, 55],
    ['tag without value', `35=0|49=TW|56=|34=2|52=20260101-00:00:00|`, 4, 56],
    ['bad enum', `35=D|${HDR}${NOS.replace('21=1', '21=4')}`, 5, 21],
    ['bad enum in a multiple-value field', `35=D|${HDR}${NOS}18=6 Z|`, 5, 18],
    ['bad price format', `35=D|${HDR}${NOS.replace('38=100', '38=+200.00')}`, 6, 38],
    ['bad timestamp', `35=D|${HDR}${NOS}126=20040415|`, 6, 126],
    ['header tag after the body', `35=D|11=id|21=3|40=1|54=1|55=MSFT|60=20260101-00:00:00|34=2|49=TW|52=20260101-00:00:00|56=ISLD|`, 14, 34],
    ['repeated tag', `35=D|${HDR}${NOS}40=2|`, 13, 40],
    ['group count does not match', `35=D|${HDR}${NOS}386=3|336=PRE-OPEN|336=AFTER-HOURS|`, 16, 386],
  ])('%s', (_n, m, reason, tag) => {
    const r = validator.validate(msg(m));
    expect(r).toBeDefined();
    expect(r!.reason).toBe(reason);
    expect(r!.refTagId).toBe(tag);
  });
  test('an unknown MsgType is 373=11 without a RefTagID', () => {
    const r = validator.validate(msg(`35=*|${HDR}`));
    expect(r?.reason).toBe(11);
    expect(r?.refTagId).toBeUndefined();
    expect(r?.text).toBe('Invalid MsgType');
  });
  test('a repeating group with count 0 is valid', () => {
    expect(validator.validate(msg(`35=D|${HDR}${NOS}386=0|`))).toBeUndefined();
  });
  test('a group with the right count is valid', () => {
    expect(validator.validate(msg(`35=D|${HDR}${NOS}386=2|336=PRE-OPEN|336=AFTER-HOURS|`))).toBeUndefined();
  });
});
