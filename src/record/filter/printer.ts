import type { FilterNode, TermNode } from './ast.js';

const UNITS: readonly (readonly [string, number])[] = [
  ['g', 1024 ** 3],
  ['m', 1024 ** 2],
  ['k', 1024],
];

/**
 * The canonical text of a filter tree: single spaces, lower-case field names, quotes only where
 * needed, sizes in the largest exact unit (`100k`), an explicit comparison on size and duration.
 * Parsing the result gives the same tree back.
 */
export function printFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'all':
      return '';
    case 'and':
      // A nested AND, or an OR, inside an AND keeps its parentheses.
      return node.items.map((item) => (item.kind === 'and' || item.kind === 'or' ? group(item) : printFilter(item))).join(' ');
    case 'or':
      return node.items.map((item) => (item.kind === 'or' ? group(item) : printFilter(item))).join(' OR ');
    case 'not':
      return `-${node.item.kind === 'and' || node.item.kind === 'or' || node.item.kind === 'all' ? group(node.item) : printFilter(node.item)}`;
    default:
      return printTerm(node);
  }
}

function group(node: FilterNode): string {
  return `(${printFilter(node)})`;
}

function printTerm(term: TermNode): string {
  switch (term.kind) {
    case 'text':
      return quoteText(term.value);
    case 'field':
      return `${term.field}:${quoteValue(term.value)}`;
    case 'status':
      return `status:${term.op === 'class' ? `${term.value}xx` : `${term.op === '=' ? '' : term.op}${term.value}`}`;
    case 'size':
      return `size:${term.op}${sizeText(term.bytes)}`;
    case 'duration':
      return `duration:${term.op}${durationText(term.ms)}`;
    case 'header':
      return `header:${quoteValue(term.value === undefined ? term.name : `${term.name}=${term.value}`)}`;
    case 'error':
      return `error:${term.code === undefined ? '' : quoteValue(term.code)}`;
    case 'user':
      return `user:${term.name === undefined ? '' : quoteValue(term.name)}`;
  }
}

function sizeText(bytes: number): string {
  if (bytes === 0) return '0';
  const unit = UNITS.find(([, size]) => bytes % size === 0);
  return unit ? `${bytes / unit[1]}${unit[0]}` : String(bytes);
}

function durationText(ms: number): string {
  return ms !== 0 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Free text, quoted when bare it would read as something else (a keyword, a field, a negation). */
function quoteText(value: string): string {
  const plain = value !== '' && value !== 'OR' && value !== 'AND' && !value.startsWith('-') && !value.includes(':');
  return plain ? quoteValue(value) : quote(value);
}

/** A field value, quoted when it is empty, holds a space, a parenthesis or a quote, or starts like a URL's `//`. */
function quoteValue(value: string): string {
  return value === '' || value.startsWith('//') || /[\s()"]/.test(value) ? quote(value) : value;
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}
