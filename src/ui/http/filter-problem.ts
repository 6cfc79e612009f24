import { compileFilter, FilterError, type FilterPredicate } from '../../record/filter/filter.js';
import type { FilterProblem } from '../api-types.js';

/** Longest filter text accepted, in characters. */
export const MAX_FILTER_LENGTH = 4096;

/** Compiles filter text, or says what is wrong with it in the API's terms. */
export function compileOrProblem(text: string): { predicate: FilterPredicate } | { problem: FilterProblem } {
  if (text.length > MAX_FILTER_LENGTH) {
    const reason = `the filter is longer than ${MAX_FILTER_LENGTH} characters`;
    return { problem: { message: reason, reason, column: MAX_FILTER_LENGTH + 1, length: text.length - MAX_FILTER_LENGTH } };
  }
  try {
    return { predicate: compileFilter(text) };
  } catch (error) {
    if (error instanceof FilterError) {
      return { problem: { message: error.message, reason: error.reason, column: error.column, length: error.length } };
    }
    throw error;
  }
}
