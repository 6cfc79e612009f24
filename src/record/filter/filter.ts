// The filter language of docs/filters.md: one entry point for `mitm flows`, `proxy.query`, the
// terminal's --log-filter, the web inspector and the stock hooks.
import type { FilterNode } from './ast.js';
import { compileNode, type FilterPredicate } from './matcher.js';
import { parseFilter } from './parser.js';

export type { Comparison, FilterNode, TermNode, TextField } from './ast.js';
export { FilterError } from './filter-error.js';
export type { FilterPredicate } from './matcher.js';
export { parseFilter } from './parser.js';
export { printFilter } from './printer.js';
export { subjectOfFlow, type FlowFacts } from './subject-of-flow.js';
export { subjectOfStored } from './subject-of-stored.js';
export { subjectOfRecord, urlParts, type FilterSubject } from './subject.js';

/** Parses and compiles filter text into a predicate over FilterSubjects; empty text matches every flow. Throws FilterError. */
export function compileFilter(text: string): FilterPredicate {
  return compileNode(parseFilter(text));
}

/** Compiles a tree parseFilter returned (parse once to print or inspect it, then compile). */
export function compileFilterTree(node: FilterNode): FilterPredicate {
  return compileNode(node);
}
