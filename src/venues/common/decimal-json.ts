// JSON.parse for venue replies, with numbers that must stay exact kept as their literal text:
// integers of 16+ digits (19-digit order ids do not survive a JS number) and, unless told
// otherwise, every non-integer number (a price `0.1` or `30000.00000000` is read as the string
// the venue sent, never as a binary float). Smaller integers (timestamps, codes) stay numbers.
//
// One linear scan quotes those number tokens outside strings; text without candidates goes
// straight to JSON.parse. Invalid JSON throws as JSON.parse does.

export interface ExactJsonOptions {
  /** Keep non-integer numbers (fraction or exponent) as strings. Default true. */
  decimalsAsStrings?: boolean;
  /** Keep every number as its text (request bodies a simulator must read digit for digit). Default false. */
  allNumbersAsStrings?: boolean;
}

/** A JSON number token, exactly (what JSON.parse would accept). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Integers with this many digits or more are kept as strings (2^53 has 16 digits). */
const BIG_INTEGER_DIGITS = 16;
const NUMBER_TOKEN = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

export function parseExactJson(text: string, opts: ExactJsonOptions = {}): unknown {
  const all = opts.allNumbersAsStrings ?? false;
  const decimals = all || (opts.decimalsAsStrings ?? true);
  const mayHaveBig = /\d{16}/.test(text);
  const mayHaveDecimal = decimals && /\d[.eE]/.test(text);
  if (!all && !mayHaveBig && !mayHaveDecimal) return JSON.parse(text);
  return JSON.parse(quoteExactNumbers(text, decimals, all));
}

/** The text with the number tokens to keep exact wrapped in quotes; strings are skipped whole. */
function quoteExactNumbers(text: string, decimals: boolean, all: boolean): string {
  let out = '';
  let copied = 0; // text[copied..i) still to be copied
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = endOfString(text, i) + 1;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER_TOKEN.lastIndex = i;
      const m = NUMBER_TOKEN.exec(text);
      if (m === null) {
        i++; // not a number (invalid JSON): JSON.parse reports it
        continue;
      }
      const token = m[0];
      const isDecimal = m[1] !== undefined || m[2] !== undefined;
      const digits = token.length - (token.charCodeAt(0) === 0x2d ? 1 : 0);
      if (all || (isDecimal && decimals) || (!isDecimal && digits >= BIG_INTEGER_DIGITS)) {
        // Quoted, a malformed number (`01`) would pass as a string: refuse it as JSON.parse would.
        if (!JSON_NUMBER.test(token)) throw new SyntaxError(`invalid number ${JSON.stringify(token)} in JSON at position ${i}`);
        out += text.slice(copied, i) + '"' + token + '"';
        copied = i + token.length;
      }
      i += token.length;
      continue;
    }
    i++;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Index of the quote closing the string that opens at `start` (or text.length when unterminated). */
function endOfString(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    const k = text.indexOf('"', j);
    if (k < 0) return text.length;
    let backslashes = 0;
    for (let b = k - 1; b > start && text.charCodeAt(b) === 0x5c; b--) backslashes++;
    if (backslashes % 2 === 0) return k;
    j = k + 1;
  }
}
