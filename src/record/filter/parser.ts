import type { FilterNode } from './ast.js';
import { filterError } from './filter-error.js';
import { tokenize, type Token } from './lexer.js';
import { termOf } from './terms.js';

/** Parentheses and negations nested deeper than this are refused, so no input can exhaust the stack. */
export const MAX_DEPTH = 64;

/**
 * Parses filter text into its tree (docs/filters.md): terms joined by spaces (AND, also written
 * `AND`) bind tighter than `OR`; `-` negates a term or a parenthesised group. Empty text is `all`.
 * Throws FilterError, and nothing else, on any text it cannot read.
 */
export function parseFilter(text: string): FilterNode {
  return new Parser(tokenize(text)).parse();
}

class Parser {
  readonly #tokens: readonly Token[];
  #pos = 0;
  #depth = 0;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  parse(): FilterNode {
    if (this.#peek().type === 'end') return { kind: 'all' };
    const node = this.#or();
    const next = this.#peek();
    if (next.type === ')') throw filterError('unexpected ")" (no "(" opens it)', next.start);
    return node;
  }

  #peek(): Token {
    return this.#tokens[this.#pos] as Token;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.type !== 'end') this.#pos++;
    return token;
  }

  #or(): FilterNode {
    const items = [this.#and()];
    while (this.#peek().type === 'OR') {
      const or = this.#next();
      if (endsGroup(this.#peek())) throw filterError('expected a term after OR', or.start, or.end);
      items.push(this.#and());
    }
    return items.length === 1 ? (items[0] as FilterNode) : { kind: 'or', items };
  }

  #and(): FilterNode {
    const items: FilterNode[] = [];
    for (let token = this.#peek(); !endsGroup(token); token = this.#peek()) {
      if (token.type === 'AND') {
        this.#next();
        if (items.length === 0) throw filterError('expected a term before AND', token.start, token.end);
        if (endsGroup(this.#peek())) throw filterError('expected a term after AND', token.start, token.end);
        continue;
      }
      items.push(this.#unary());
    }
    if (items.length === 0) throw this.#missingTerm();
    return items.length === 1 ? (items[0] as FilterNode) : { kind: 'and', items };
  }

  #unary(): FilterNode {
    const negations: Token[] = [];
    while (this.#peek().type === '-') negations.push(this.#next());
    const last = negations.at(-1);
    if (last && (endsGroup(this.#peek()) || this.#peek().type === 'AND')) {
      throw filterError('expected a term after "-" (quote a text that starts with -: "-x")', last.start);
    }
    this.#enter(negations.length, negations[0]);
    let node = this.#primary();
    for (let i = 0; i < negations.length; i++) node = { kind: 'not', item: node };
    this.#depth -= negations.length;
    return node;
  }

  #primary(): FilterNode {
    const token = this.#next();
    if (token.type === 'word') return termOf(token);
    if (token.type !== '(') throw filterError(`unexpected ${describe(token)}`, token.start, token.end);
    if (this.#peek().type === ')') throw filterError('empty parentheses', token.start, this.#peek().end);
    this.#enter(1, token);
    const node = this.#or();
    const close = this.#next();
    if (close.type !== ')') throw filterError('"(" is never closed', token.start);
    this.#depth--;
    return node;
  }

  #enter(levels: number, at: Token | undefined): void {
    this.#depth += levels;
    if (this.#depth > MAX_DEPTH && at) throw filterError(`nested deeper than ${MAX_DEPTH} levels`, at.start, at.end);
  }

  #missingTerm(): Error {
    const token = this.#peek();
    if (token.type === 'OR') return filterError('expected a term before OR', token.start, token.end);
    if (token.type === ')') return filterError('unexpected ")" (no "(" opens it)', token.start);
    return filterError('expected a term', token.start);
  }
}

function endsGroup(token: Token): boolean {
  return token.type === 'end' || token.type === ')' || token.type === 'OR';
}

function describe(token: Token): string {
  return token.type === 'end' ? 'end of filter' : `"${token.type === 'word' ? 'word' : token.type}"`;
}
