import { ERROR_CODES } from '../../errors.js';
import { FIELD_NAMES, isFieldName, type Comparison, type FilterNode, type TermNode } from './ast.js';
import { isTypeValue, TYPE_ALIASES } from './content-types.js';
import { didYouMean, filterError } from './filter-error.js';
import type { WordToken } from './lexer.js';

/** Error codes `error:` accepts without a wildcard: the table's, and `aborted` (a cut-off exchange). */
export const KNOWN_ERROR_CODES: readonly string[] = [...Object.keys(ERROR_CODES), 'aborted'];

/** Size suffixes, binary like the rest of mitm's docs: `k` = KiB = 1024 bytes. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const NUMBER = /^(>=|<=|>|<|=)?(\d+(?:\.\d+)?)([a-z]*)$/i;
/** The longest duration accepted, in ms (about 31 years); keeps numbers printable. */
const MAX_MS = 1e12;
/** An RFC 9110 field name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The term a word stands for: free text, or a field test with its value checked. Throws FilterError. */
export function termOf(word: WordToken): FilterNode {
  if (word.field === undefined) return { kind: 'text', value: word.value };
  const field = word.field.toLowerCase();
  if (!isFieldName(field)) {
    const hint = didYouMean(field, FIELD_NAMES);
    // `localhost:8080` is text to search for; `stauts:404` is a typo.
    if (hint === '' && /^\d+$/.test(word.value)) return { kind: 'text', value: `${word.field}:${word.value}` };
    const quote = hint === '' ? `; to search for the text, quote it: "${word.field}:${word.value}"` : '';
    throw filterError(`unknown field "${word.field}"${hint}${quote}`, word.start, word.start + word.field.length);
  }
  // An empty value underlines the field name; a bad one, itself.
  const bad = (reason: string): Error => filterError(reason, word.value === '' ? word.start : word.valueStart, word.end);
  const value = word.value;
  switch (field) {
    case 'status':
      return statusTerm(value, bad);
    case 'size':
      return sizeTerm(value, bad);
    case 'duration':
      return durationTerm(value, bad);
    case 'header':
      return headerTerm(value, bad);
    case 'error':
      return errorTerm(value, bad);
    case 'user':
      return { kind: 'user', name: value === '' ? undefined : value };
    case 'type':
      if (value === '') throw bad(`type: needs a value: ${TYPE_ALIASES.join(', ')} or a MIME type`);
      if (!isTypeValue(value)) {
        throw bad(
          `unknown type "${value}"${didYouMean(value, TYPE_ALIASES)}: use ${TYPE_ALIASES.join(', ')} or a MIME type such as application/xml`,
        );
      }
      return { kind: 'field', field, value };
    default:
      if (value === '') throw bad(`${field}: needs a value`);
      return { kind: 'field', field, value };
  }
}

function statusTerm(value: string, bad: (reason: string) => Error): TermNode {
  const cls = /^([1-5])xx$/i.exec(value);
  if (cls) return { kind: 'status', op: 'class', value: Number(cls[1]) };
  const match = /^(>=|<=|>|<|=)?([1-9]\d\d)$/.exec(value);
  if (!match) throw bad(`invalid status "${value}": use a code (404), a class (5xx) or a comparison (>=400, <300)`);
  return { kind: 'status', op: (match[1] ?? '=') as Comparison, value: Number(match[2]) };
}

function sizeTerm(value: string, bad: (reason: string) => Error): TermNode {
  const match = NUMBER.exec(value);
  const unit = SIZE_UNITS[match?.[3]?.toLowerCase() ?? ''];
  const bytes = Math.round(Number(match?.[2]) * (unit ?? Number.NaN));
  if (!match || unit === undefined || !Number.isSafeInteger(bytes)) {
    throw bad(`invalid size "${value}": use bytes with an optional k, m or g suffix (1024-based), e.g. >100k`);
  }
  return { kind: 'size', op: (match[1] ?? '>=') as Comparison, bytes };
}

function durationTerm(value: string, bad: (reason: string) => Error): TermNode {
  const match = NUMBER.exec(value);
  const unit = match?.[3]?.toLowerCase();
  const factor = unit === '' || unit === 'ms' ? 1 : unit === 's' ? 1000 : Number.NaN;
  // Kept to the microsecond, so every duration prints as a plain decimal.
  const ms = Math.round(Number(match?.[2]) * factor * 1000) / 1000;
  if (!match || !(ms <= MAX_MS)) throw bad(`invalid duration "${value}": use milliseconds or seconds, e.g. >500ms or >2s`);
  return { kind: 'duration', op: (match[1] ?? '>=') as Comparison, ms };
}

function headerTerm(value: string, bad: (reason: string) => Error): TermNode {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  if (!TOKEN.test(name)) {
    throw bad(name === '' ? 'header: needs a name, e.g. header:x-request-id or header:accept=*json*' : `invalid header name "${name}"`);
  }
  return { kind: 'header', name, value: eq < 0 ? undefined : value.slice(eq + 1) };
}

function errorTerm(value: string, bad: (reason: string) => Error): TermNode {
  if (value === '') return { kind: 'error', code: undefined };
  if (!/[*?]/.test(value) && !KNOWN_ERROR_CODES.includes(value.toLowerCase())) {
    throw bad(`unknown error code "${value}"${didYouMean(value, KNOWN_ERROR_CODES)}: see docs/errors.md`);
  }
  return { kind: 'error', code: value };
}
