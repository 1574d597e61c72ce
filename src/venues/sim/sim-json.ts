// JSON request bodies for the simulators, with every JSON number kept as its exact source text
// (a string), so `"amount": 0.1` reaches the matching engine as "0.1" and never as a binary float.
// Simulators accept a number where the venue documents a string, as venues lenient in their
// types do.

import { parseExactJson } from '../common/decimal-json';

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** JSON.parse, except that every number becomes its source text as a string. Throws SyntaxError on bad JSON. */
export function parseJsonNumbersAsText(text: string): unknown {
  return parseExactJson(text, { allNumbersAsStrings: true });
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

/** A JSON number given as its exact text, for replies that send numbers (not strings) on the wire. */
export class JsonNumber {
  constructor(readonly text: string) {
    if (!JSON_NUMBER.test(text)) throw new Error(`not a JSON number: ${JSON.stringify(text)}`);
  }
}

/** JSON.stringify for plain data in which JsonNumber values are written as bare numbers, digit for digit. */
export function stringifyWithNumbers(value: unknown): string {
  if (value instanceof JsonNumber) return value.text;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : stringifyWithNumbers(v))).join(',') + ']';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) if (v !== undefined) parts.push(JSON.stringify(k) + ':' + stringifyWithNumbers(v));
  return '{' + parts.join(',') + '}';
}
