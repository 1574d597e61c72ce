import { jsonObjectBody, parseJsonNumbersAsText } from '../../../src/venues/sim/sim-json';

describe('parseJsonNumbersAsText', () => {
  it('keeps every number as its exact source text', () => {
    expect(parseJsonNumbersAsText('{"amount":0.1,"price":60000.10,"n":-3,"e":1E-7,"big":12345678901234567890}')).toEqual({
      amount: '0.1',
      price: '60000.10',
      n: '-3',
      e: '1E-7',
      big: '12345678901234567890',
    });
  });

  it('leaves strings (digits, quotes and escapes inside them) and literals alone', () => {
    expect(parseJsonNumbersAsText('{"s":"a\\"1.5, 2","t":true,"u":null,"l":[1,"2",[3.0]]}')).toEqual({
      s: 'a"1.5, 2',
      t: true,
      u: null,
      l: ['1', '2', ['3.0']],
    });
  });

  it('refuses malformed numbers and malformed JSON', () => {
    expect(() => parseJsonNumbersAsText('{"a":01}')).toThrow(SyntaxError);
    expect(() => parseJsonNumbersAsText('{"a":1.}')).toThrow(SyntaxError);
    expect(() => parseJsonNumbersAsText('{"a":1')).toThrow(SyntaxError);
  });

  it('jsonObjectBody: an object, or undefined for arrays, scalars, empty and bad bodies', () => {
    expect(jsonObjectBody('{"a":1}')).toEqual({ a: '1' });
    expect(jsonObjectBody('[1]')).toBeUndefined();
    expect(jsonObjectBody('3')).toBeUndefined();
    expect(jsonObjectBody('')).toBeUndefined();
    expect(jsonObjectBody('{')).toBeUndefined();
  });
});
