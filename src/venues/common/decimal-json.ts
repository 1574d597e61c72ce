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
}

/** Integers with this many digits or more are kept as strings (2^53 has 16 digits). */
const BIG_INTEGER_DIGITS = 16;
const NUMBER_TOKEN = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

export function parseExactJson(text: string, opts: ExactJsonOptions = {}): unknown {
  const decimals = opts.decimalsAsStrings ?? true;
  const mayHaveBig = /\d{16}/.test(text);
  const mayHaveDecimal = decimals && /\d[.eE]/.test(text);
  if (!mayHaveBig && !mayHaveDecimal) return JSON.parse(text);
  return JSON.parse(quoteExactNumbers(text, decimals));
}

/** The text with the number tokens to keep exact wrapped in quotes; strings are skipped whole. */
function quoteExactNumbers(text: string, decimals: boolean): string {
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
      if ((isDecimal && decimals) || (!isDecimal && digits >= BIG_INTEGER_DIGITS)) {
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
