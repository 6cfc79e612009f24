import { globToRegExp } from '../../net/glob.js';
import type { Comparison, FilterNode, TermNode } from './ast.js';
import { typeMatcher } from './content-types.js';
import type { FilterSubject } from './subject.js';
import { hasWildcard, wildcardRegExp } from './wildcard.js';

/** A compiled filter: true when the subject matches. */
export type FilterPredicate = (subject: FilterSubject) => boolean;

/**
 * Compiles a filter tree into a predicate; patterns are built once here, not per subject.
 * AND and OR try their cheap terms first, so bodies are only read when the rest allows a match.
 */
export function compileNode(node: FilterNode): FilterPredicate {
  switch (node.kind) {
    case 'all':
      return () => true;
    case 'and': {
      const items = byCost(node.items).map(compileNode);
      return (s) => items.every((item) => item(s));
    }
    case 'or': {
      const items = byCost(node.items).map(compileNode);
      return (s) => items.some((item) => item(s));
    }
    case 'not': {
      const item = compileNode(node.item);
      return (s) => !item(s);
    }
    default:
      return compileTerm(node);
  }
}

function compileTerm(term: TermNode): FilterPredicate {
  switch (term.kind) {
    case 'text': {
      const needle = term.value.toLowerCase();
      return (s) => s.url.toLowerCase().includes(needle);
    }
    case 'status':
      return term.op === 'class'
        ? (s) => s.status !== undefined && Math.floor(s.status / 100) === term.value
        : numberTest(term.op, term.value, (s) => s.status);
    case 'size':
      return numberTest(term.op, term.bytes, (s) => s.responseSize);
    case 'duration':
      return numberTest(term.op, term.ms, (s) => s.durationMs);
    case 'header':
      return headerTest(term.name, term.value);
    case 'error':
      return optionalTest(term.code, (s) => s.errorCode, wildcardOrEqual);
    case 'user':
      return optionalTest(term.name, (s) => s.user, wildcardOrEqual);
    case 'field':
      return fieldTest(term.field, term.value);
  }
}

function fieldTest(field: Extract<TermNode, { kind: 'field' }>['field'], value: string): FilterPredicate {
  switch (field) {
    case 'host': {
      // A glob is anchored; a plain name also matches its subdomains (host:example.com → api.example.com).
      if (hasWildcard(value)) {
        const pattern = globToRegExp(value);
        return (s) => pattern.test(s.host);
      }
      const name = value.toLowerCase().replace(/\.$/, '');
      return (s) => s.host === name || s.host.endsWith(`.${name}`);
    }
    case 'path': {
      const test = wildcardOrSubstring(value);
      return (s) => test(s.path);
    }
    case 'method': {
      const test = wildcardOrEqual(value);
      return (s) => test(s.method);
    }
    case 'mode': {
      const test = wildcardOrEqual(value);
      return (s) => s.mode !== undefined && test(s.mode);
    }
    case 'sni': {
      const test = wildcardOrEqual(value);
      return (s) => s.sni !== undefined && s.sni !== '' && test(s.sni);
    }
    case 'type':
      return typeMatcher(value, wildcardRegExp);
    case 'req':
    case 'res': {
      const needle = value.toLowerCase();
      const body = field === 'req' ? (s: FilterSubject) => s.requestBody?.() : (s: FilterSubject) => s.responseBody?.();
      return (s) => body(s)?.toLowerCase().includes(needle) ?? false;
    }
  }
}

function numberTest(op: Comparison, limit: number, get: (s: FilterSubject) => number | undefined): FilterPredicate {
  const compare = COMPARE[op];
  return (s) => {
    const value = get(s);
    return value !== undefined && compare(value, limit);
  };
}

const COMPARE: Readonly<Record<Comparison, (a: number, b: number) => boolean>> = {
  '=': (a, b) => a === b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
};

/** `field:` alone matches any value present; `field:x` tests it. */
function optionalTest(
  wanted: string | undefined,
  get: (s: FilterSubject) => string | undefined,
  make: (value: string) => (actual: string) => boolean,
): FilterPredicate {
  const test = wanted === undefined ? () => true : make(wanted);
  return (s) => {
    const value = get(s);
    return value !== undefined && test(value);
  };
}

function headerTest(name: string, value: string | undefined): FilterPredicate {
  const lower = name.toLowerCase();
  const test = value === undefined ? () => true : wildcardOrSubstring(value);
  const inList = (raw: readonly string[] | undefined): boolean => {
    if (!raw) return false;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if ((raw[i] as string).toLowerCase() === lower && test(raw[i + 1] as string)) return true;
    }
    return false;
  };
  return (s) => inList(s.requestHeaders) || inList(s.responseHeaders);
}

function wildcardOrSubstring(value: string): (actual: string) => boolean {
  if (hasWildcard(value)) {
    const pattern = wildcardRegExp(value);
    return (actual) => pattern.test(actual);
  }
  const needle = value.toLowerCase();
  return (actual) => actual.toLowerCase().includes(needle);
}

function wildcardOrEqual(value: string): (actual: string) => boolean {
  if (hasWildcard(value)) {
    const pattern = wildcardRegExp(value);
    return (actual) => pattern.test(actual);
  }
  const wanted = value.toLowerCase();
  return (actual) => actual.toLowerCase() === wanted;
}

/** Items ordered so terms that read bodies come last (stable otherwise); matching is unaffected. */
function byCost(items: readonly FilterNode[]): FilterNode[] {
  return items
    .map((item, index) => ({ item, index, cost: costOf(item) }))
    .sort((a, b) => a.cost - b.cost || a.index - b.index)
    .map(({ item }) => item);
}

function costOf(node: FilterNode): number {
  switch (node.kind) {
    case 'and':
    case 'or':
      return Math.max(...node.items.map(costOf));
    case 'not':
      return costOf(node.item);
    case 'field':
      return node.field === 'req' || node.field === 'res' ? 10 : 1;
    default:
      return 1;
  }
}
