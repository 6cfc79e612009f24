import { valuesOf, type HeaderMap } from '../flow/header-map.js';

/** Request header conditions: each named field must be present and equal (string) or match (RegExp). */
export type HeaderMatchers = Readonly<Record<string, string | RegExp>>;

/** A body condition: equal text, a RegExp the text matches, or a JSON value the parsed body contains. */
export type BodyMatcher = string | RegExp | Readonly<Record<string, unknown>> | readonly unknown[];

/** True when every header condition holds; repeated fields are compared joined with ", ". */
export function matchesHeaders(headers: HeaderMap, expected: HeaderMatchers): boolean {
  return Object.entries(expected).every(([name, want]) => {
    const value = headers[name.toLowerCase()];
    if (value === undefined) return false;
    const joined = valuesOf(value).join(', ');
    return typeof want === 'string' ? joined === want : test(want, joined);
  });
}

/** True when `text` (undefined: the body could not be read) satisfies `want`. */
export function matchesBody(text: string | undefined, want: BodyMatcher): boolean {
  if (text === undefined) return false;
  if (typeof want === 'string') return text === want;
  if (want instanceof RegExp) return test(want, text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  return contains(parsed, want);
}

/**
 * Partial JSON match: every key of an expected object must be present with a matching value
 * (extra keys are fine, at any depth); arrays match element by element and must be as long;
 * other values compare with Object.is.
 */
export function contains(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((item, i) => contains(actual[i], item));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const record = actual as Record<string, unknown>;
    return Object.entries(expected).every(([key, value]) => Object.hasOwn(record, key) && contains(record[key], value));
  }
  return Object.is(actual, expected);
}

function test(regexp: RegExp, text: string): boolean {
  // A /g or /y RegExp keeps its position between calls; every request is tested from the start.
  regexp.lastIndex = 0;
  return regexp.test(text);
}
