import { filterError } from './filter-error.js';

/** A word of the filter: free text, or `field:value` when it starts with a bare `name:`. */
export interface WordToken {
  readonly type: 'word';
  /** Index of the first character and one past the last, in the filter text. */
  readonly start: number;
  readonly end: number;
  /** The `name` of a bare `name:` prefix, as typed, and where it starts (always `start`). */
  readonly field: string | undefined;
  /** The text after the prefix (or the whole word), quotes removed and escapes undone. */
  readonly value: string;
  readonly valueStart: number;
  /** True when any part of the word was quoted (so `"OR"` is text, not the keyword). */
  readonly quoted: boolean;
}

/** A parenthesis, a `-` before a term, a keyword, or the end of the text. */
export interface MarkToken {
  readonly type: '(' | ')' | '-' | 'OR' | 'AND' | 'end';
  readonly start: number;
  readonly end: number;
}

/** One lexical unit of a filter. */
export type Token = WordToken | MarkToken;

// `name:` opens a field when name is a letter then letters, digits, `_` or `-`.
const FIELD_PREFIX = /^([A-Za-z][A-Za-z0-9_-]*):/;
const SPACE = /\s/;

/**
 * Splits filter text into tokens. Words run to the next space or parenthesis; quoted parts
 * (`"a b"`, with `\"` and `\\` as escapes) may appear anywhere in a word, as in a shell. A `-` is
 * a negation only where a word could start. Throws FilterError on an unterminated quote.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (SPACE.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')' || ch === '-') {
      tokens.push({ type: ch, start: i, end: i + 1 });
      i++;
    } else {
      const word = readWord(text, i);
      tokens.push(word);
      i = word.end;
    }
  }
  tokens.push({ type: 'end', start: text.length, end: text.length });
  return tokens;
}

function readWord(text: string, start: number): WordToken | MarkToken {
  const parts: { readonly text: string; readonly quoted: boolean; readonly start: number }[] = [];
  let i = start;
  while (i < text.length) {
    const ch = text[i] as string;
    if (SPACE.test(ch) || ch === '(' || ch === ')') break;
    if (ch === '"') {
      const quoted = readQuoted(text, i);
      parts.push({ text: quoted.value, quoted: true, start: i });
      i = quoted.end;
    } else {
      let j = i;
      while (j < text.length && !/[\s()"]/.test(text[j] as string)) j++;
      parts.push({ text: text.slice(i, j), quoted: false, start: i });
      i = j;
    }
  }
  const first = parts[0];
  const quoted = parts.some((part) => part.quoted);
  if (!quoted && (first?.text === 'OR' || first?.text === 'AND')) return { type: first.text, start, end: i };
  const whole = parts.map((part) => part.text).join('');
  const prefix = first && !first.quoted ? FIELD_PREFIX.exec(first.text) : null;
  // `https://…` is a URL to search for, not a field named https.
  if (prefix && !first?.text.startsWith('//', prefix[0].length)) {
    const name = prefix[1] as string;
    return { type: 'word', start, end: i, field: name, value: whole.slice(name.length + 1), valueStart: start + name.length + 1, quoted };
  }
  return { type: 'word', start, end: i, field: undefined, value: whole, valueStart: start, quoted };
}

function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') return { value, end: i + 1 };
    const next = text[i + 1];
    if (ch === '\\' && (next === '"' || next === '\\')) {
      value += next;
      i += 2;
    } else {
      value += ch;
      i++;
    }
  }
  throw filterError('unterminated quoted string (a " is never closed)', start, text.length);
}
