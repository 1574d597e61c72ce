// JSON request bodies for the simulators, with every JSON number kept as its exact source text
// (a string), so `"amount": 0.1` reaches the matching engine as "0.1" and never as a binary float.
// Simulators accept a number where the venue documents a string, as venues lenient in their
// types do.

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** JSON.parse, except that every number becomes its source text as a string. Throws SyntaxError on bad JSON. */
export function parseJsonNumbersAsText(text: string): unknown {
  let out = '';
  let i = 0;
  let from = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string, escapes included.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && /[0-9eE.+-]/.test(text[j])) j++;
      const token = text.slice(i, j);
      if (!JSON_NUMBER.test(token)) throw new SyntaxError(`invalid number ${JSON.stringify(token)} in JSON at position ${i}`);
      out += text.slice(from, i) + '"' + token + '"';
      from = j;
      i = j;
      continue;
    }
    i++;
  }
  return JSON.parse(out + text.slice(from));
}

/** A JSON object body (numbers as text), or undefined when the body is not a JSON object. */
export function jsonObjectBody(body: string): Record<string, unknown> | undefined {
  if (body.trim() === '') return undefined;
  let v: unknown;
  try {
    v = parseJsonNumbersAsText(body);
  } catch {
    return undefined;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
