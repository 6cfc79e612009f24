import { compileFilter } from '../filter/filter.js';
import { subjectOfStored } from '../filter/subject-of-stored.js';
import type { FlowRow } from './types.js';

/** Compiles filter text (docs/filters.md) into a `where` predicate over store rows; throws FilterError. */
export function whereFilter(text: string): (row: FlowRow) => boolean {
  const matches = compileFilter(text);
  return (row) => matches(subjectOfStored(row));
}
