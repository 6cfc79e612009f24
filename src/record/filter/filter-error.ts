import { MitmError } from '../../errors.js';

/**
 * A filter that does not parse. `column` (1-based, in UTF-16 code units as JavaScript indexes
 * strings) and `length` say which part of the text to underline; `reason` is the message
 * without its "invalid filter at column N" prefix.
 */
export class FilterError extends MitmError {
  readonly column: number;
  readonly length: number;
  readonly reason: string;

  constructor(reason: string, column: number, length: number) {
    super('filter_invalid', `invalid filter at column ${column}: ${reason}`);
    this.name = 'FilterError';
    this.column = column;
    this.length = length;
    this.reason = reason;
  }
}

/** A FilterError for the text from index `start` (0-based) to `end`. */
export function filterError(reason: string, start: number, end: number = start + 1): FilterError {
  return new FilterError(reason, start + 1, Math.max(0, end - start));
}

/** The candidate closest to `word` by edit distance, when close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const limit = lower.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** ` (did you mean X?)`, or nothing when no candidate is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const guess = closest(word, candidates);
  return guess === undefined ? '' : ` (did you mean ${guess}?)`;
}

// Damerau–Levenshtein (optimal string alignment): a swap of two neighbours ("stauts") counts one.
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const above = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = value;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}
