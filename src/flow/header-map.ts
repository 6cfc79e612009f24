/**
 * Headers as hooks see them: a plain object with lower-case names, a string per field, or an
 * array for repeated fields (`set-cookie`). Hooks mutate it freely; `toRawHeaders` then writes
 * the result back in wire form, keeping the original order, spelling and repetition of every
 * field a hook left alone.
 */
export type HeaderMap = Record<string, string | string[]>;

/** Builds a HeaderMap from Node's flat raw list (`[name, value, name, value, ...]`). */
export function headerMapFromRaw(raw: readonly string[]): HeaderMap {
  const map: HeaderMap = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const existing = own(map, name);
    if (existing === undefined) put(map, name, value);
    else if (Array.isArray(existing)) existing.push(value);
    else put(map, name, [existing, value]);
  }
  return map;
}

// A field called `constructor` or `__proto__` is a header like any other: read own properties
// only, and define rather than assign (assigning `__proto__` would change the prototype).
function own(map: HeaderMap, name: string): string | string[] | undefined {
  return Object.hasOwn(map, name) ? map[name] : undefined;
}

function put(map: HeaderMap, name: string, value: string | string[]): void {
  Object.defineProperty(map, name, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Wire form of `current`, relative to the `original` raw list it was built from: untouched fields
 * keep their original positions and spelling, changed fields take the place of their first
 * occurrence, deleted ones vanish, and new ones are appended in insertion order.
 */
export function toRawHeaders(original: readonly string[], current: HeaderMap): string[] {
  const before = headerMapFromRaw(original);
  const out: string[] = [];
  const written = new Set<string>();
  for (let i = 0; i + 1 < original.length; i += 2) {
    const name = original[i] as string;
    const lower = name.toLowerCase();
    const now = own(current, lower);
    if (now === undefined) continue;
    if (sameValues(own(before, lower), now)) {
      out.push(name, original[i + 1] as string);
    } else if (!written.has(lower)) {
      for (const value of valuesOf(now)) out.push(name, value);
    }
    written.add(lower);
  }
  for (const [name, value] of Object.entries(current)) {
    if (written.has(name) || own(before, name) !== undefined) continue;
    for (const item of valuesOf(value)) out.push(name, item);
  }
  return out;
}

/** Every value of a field as an array. */
export function valuesOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function sameValues(a: string | string[] | undefined, b: string | string[]): boolean {
  const left = valuesOf(a);
  const right = valuesOf(b);
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

// The raw list itself (Node's `rawHeaders`: `[name, value, name, value, ...]`), read and edited
// by name, case-insensitively.

/** Replaces every `name` field in a raw list with one value, keeping its first position (or appending). */
export function setRawHeader(raw: readonly string[], name: string, value: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  let placed = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== lower) {
      out.push(raw[i] as string, raw[i + 1] as string);
    } else if (!placed) {
      out.push(raw[i] as string, value);
      placed = true;
    }
  }
  if (!placed) out.push(name, value);
  return out;
}

/** The first value of `name` in a raw list, or undefined. */
export function getRawHeader(raw: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === lower) return raw[i + 1];
  }
  return undefined;
}

/** Every value of `name` in a raw list, in order. */
export function getRawHeaderValues(raw: readonly string[], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === lower) out.push(raw[i + 1] as string);
  }
  return out;
}

/** `raw` without any field called `name`. */
export function withoutRawHeader(raw: readonly string[], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== lower) out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}
