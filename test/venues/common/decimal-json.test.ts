import { parseExactJson } from '../../../src/venues/common/decimal-json';

describe('parseExactJson', () => {
  it('keeps decimals as the literal text the venue sent', () => {
    const o = parseExactJson('{"price":30000.00000000,"qty":0.1,"neg":-40.0,"e":1.5e-7,"list":[0.30000000000000004]}') as any;
    expect(o).toEqual({ price: '30000.00000000', qty: '0.1', neg: '-40.0', e: '1.5e-7', list: ['0.30000000000000004'] });
  });

  it('keeps integers of 16+ digits as strings and smaller integers as numbers', () => {
    const o = parseExactJson('{"orderId":1738708541676585728,"time":1722006209989,"code":-1121,"ids":[-12345678901234567]}') as any;
    expect(o).toEqual({ orderId: '1738708541676585728', time: 1722006209989, code: -1121, ids: ['-12345678901234567'] });
  });

  it('leaves digits inside strings alone, escaped quotes included', () => {
    const text = '{"msg":"x,1234567890123456789,y \\" 0.5,","p":0.25,"s":"a\\\\","q":1.5}';
    expect(parseExactJson(text)).toEqual({ msg: 'x,1234567890123456789,y " 0.5,', p: '0.25', s: 'a\\', q: '1.5' });
  });

  it('can leave decimals as numbers (big integers still strings)', () => {
    const o = parseExactJson('{"p":0.125,"id":12345678901234567}', { decimalsAsStrings: false }) as any;
    expect(o).toEqual({ p: 0.125, id: '12345678901234567' });
  });

  it('parses documents without candidates exactly as JSON.parse', () => {
    const text = '{"a":[1,2,{"b":null,"c":true}],"d":"x"}';
    expect(parseExactJson(text)).toEqual(JSON.parse(text));
    expect(parseExactJson('7')).toBe(7);
    expect(parseExactJson('2.50')).toBe('2.50');
  });

  it('throws on invalid JSON like JSON.parse', () => {
    expect(() => parseExactJson('{"a":0.1,')).toThrow(SyntaxError);
    expect(() => parseExactJson('{"a":"0.1')).toThrow(SyntaxError);
  });
});
