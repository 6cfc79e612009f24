// Property tests of the filter language (issue #13): the parser fails only with FilterError, and
// printing a tree gives text that parses back to the same tree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Comparison, FilterNode, TermNode } from '../../src/record/filter/ast.js';
import { TYPE_ALIASES } from '../../src/record/filter/content-types.js';
import {
  compileFilter,
  compileFilterTree,
  FilterError,
  parseFilter,
  printFilter,
  type FilterSubject,
} from '../../src/record/filter/filter.js';
import { KNOWN_ERROR_CODES } from '../../src/record/filter/terms.js';

const RUNS = { numRuns: 500 };

// Characters and pieces that mean something to the lexer, mixed with arbitrary Unicode.
const tricky = fc.constantFrom(
  ' ',
  '\t',
  '\n',
  '"',
  '\\',
  '(',
  ')',
  '-',
  ':',
  '*',
  '?',
  '=',
  '/',
  '//',
  'OR',
  'AND',
  'x',
  '\u00a0',
  '\u2028',
);
const anyString = fc.string({ unit: fc.oneof(tricky, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 12 });
const someString = anyString.filter((s) => s !== '');
const comparison = fc.constantFrom<Comparison>('=', '>', '>=', '<', '<=');
const headerName = fc.string({ unit: fc.constantFrom(..."abcXYZ019-_!#$%&'*+.^`|~".split('')), minLength: 1, maxLength: 8 });
const mimePart = fc
  .string({
    unit: fc.oneof(fc.constantFrom('a', 'B', '+', '.', '*', '"', '(', '-'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
    minLength: 1,
    maxLength: 6,
  })
  .filter((s) => !/[\s/]/.test(s));

const term: fc.Arbitrary<TermNode> = fc.oneof(
  anyString.map((value) => ({ kind: 'text', value }) as const),
  fc.record({
    kind: fc.constant('field' as const),
    field: fc.constantFrom('host', 'path', 'method', 'req', 'res', 'mode', 'sni' as const),
    value: someString,
  }),
  fc.record({
    kind: fc.constant('field' as const),
    field: fc.constant('type' as const),
    value: fc.oneof(
      fc.constantFrom(...TYPE_ALIASES, 'JSON', 'Image'),
      fc.tuple(mimePart, mimePart).map(([a, b]) => `${a}/${b}`),
    ),
  }),
  fc.record({ kind: fc.constant('status' as const), op: fc.constant('class' as const), value: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('status' as const), op: comparison, value: fc.integer({ min: 100, max: 999 }) }),
  fc.record({
    kind: fc.constant('size' as const),
    op: comparison,
    bytes: fc.oneof(
      fc.nat(),
      fc.integer({ min: 0, max: 4096 }).map((n) => n * 1024),
      fc.maxSafeNat(),
    ),
  }),
  fc.record({
    kind: fc.constant('duration' as const),
    op: comparison,
    ms: fc.oneof(
      fc.nat(),
      fc.integer({ min: 0, max: 1e9 }).map((n) => n / 1000),
    ),
  }),
  fc.record({ kind: fc.constant('header' as const), name: headerName, value: fc.option(anyString, { nil: undefined }) }),
  fc.record({
    kind: fc.constant('error' as const),
    code: fc.option(
      fc.oneof(
        fc.constantFrom(...KNOWN_ERROR_CODES, 'UPSTREAM_TLS'),
        someString.map((s) => `${s}*`),
      ),
      { nil: undefined },
    ),
  }),
  fc.record({ kind: fc.constant('user' as const), name: fc.option(someString, { nil: undefined }) }),
);

const { node } = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    term,
    fc.record({ kind: fc.constant('not' as const), item: tie('node') }),
    fc.record({ kind: fc.constant('and' as const), items: fc.array(tie('node'), { minLength: 2, maxLength: 4 }) }),
    fc.record({ kind: fc.constant('or' as const), items: fc.array(tie('node'), { minLength: 2, maxLength: 4 }) }),
  ),
}));
/** fc.record may build objects without a prototype; the parser's have Object's, which deepEqual compares. */
function plain(value: FilterNode): FilterNode {
  switch (value.kind) {
    case 'and':
    case 'or':
      return { kind: value.kind, items: value.items.map(plain) };
    case 'not':
      return { kind: 'not', item: plain(value.item) };
    default:
      return { ...value };
  }
}

const tree = fc.oneof({ weight: 1, arbitrary: fc.constant<FilterNode>({ kind: 'all' }) }, { weight: 20, arbitrary: node }).map(plain);

// Filter-ish text: fragments of the language glued at random, plus plain noise.
const fragment = fc.oneof(
  fc.constantFrom(
    'host:',
    'status:',
    'size:>',
    'duration:<',
    'type:',
    'header:',
    'error:',
    'user:',
    'stauts:',
    'foo:',
    'http://',
    '5xx',
    '>=4',
    '1.5k',
    'ms',
    's',
  ),
  fc.constantFrom('(', ')', '-', ' ', 'OR', 'AND', '"', '\\', '=', '*'),
  anyString,
);
const filterText = fc.oneof(
  fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join('')),
  fc.string(),
  fc.string({ unit: 'binary' }),
);

const subject: fc.Arbitrary<FilterSubject> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'x'),
  url: fc.webUrl(),
  host: fc.domain(),
  path: fc.constantFrom('/', '/a', '/a/b'),
  status: fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }),
  contentType: fc.option(fc.constantFrom('application/json', 'text/html; charset=utf-8', 'image/png', ''), { nil: undefined }),
  requestHeaders: fc.option(fc.array(anyString, { maxLength: 6 }), { nil: undefined }),
  responseHeaders: fc.option(fc.array(anyString, { maxLength: 6 }), { nil: undefined }),
  requestBody: fc.option(
    anyString.map((s) => () => s),
    { nil: undefined },
  ),
  responseBody: fc.option(
    fc.option(anyString, { nil: undefined }).map((s) => () => s),
    { nil: undefined },
  ),
  responseSize: fc.option(fc.nat(), { nil: undefined }),
  durationMs: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
  errorCode: fc.option(fc.constantFrom(...KNOWN_ERROR_CODES), { nil: undefined }),
  mode: fc.option(fc.constantFrom('regular', 'transparent'), { nil: undefined }),
  user: fc.option(anyString, { nil: undefined }),
  isWebSocket: fc.boolean(),
  isSse: fc.boolean(),
});

test('the parser throws nothing but FilterError, with a column inside the text', () => {
  fc.assert(
    fc.property(filterText, (text) => {
      try {
        parseFilter(text);
      } catch (error) {
        assert.ok(error instanceof FilterError, `${JSON.stringify(text)} threw ${String(error)}`);
        assert.ok(error.column >= 1 && error.column <= text.length + 1, `column ${error.column} of ${JSON.stringify(text)}`);
        assert.ok(error.length >= 0 && error.column - 1 + error.length <= text.length + 1);
      }
    }),
    RUNS,
  );
});

test('printing a tree gives text that parses back to the same tree', () => {
  fc.assert(
    fc.property(tree, (t) => {
      const printed = printFilter(t);
      assert.deepEqual(parseFilter(printed), t, printed);
    }),
    RUNS,
  );
});

test('a parsed filter prints to its canonical text, which is a fixed point', () => {
  fc.assert(
    fc.property(filterText, (text) => {
      let parsed: FilterNode;
      try {
        parsed = parseFilter(text);
      } catch {
        return;
      }
      const printed = printFilter(parsed);
      assert.deepEqual(parseFilter(printed), parsed, `${JSON.stringify(text)} → ${JSON.stringify(printed)}`);
      assert.equal(printFilter(parseFilter(printed)), printed);
    }),
    RUNS,
  );
});

test('compiled filters return a boolean for any subject, and -(f) is the opposite of f', () => {
  fc.assert(
    fc.property(node, subject, (t, s) => {
      const result = compileFilterTree(t)(s);
      assert.equal(typeof result, 'boolean');
      assert.equal(compileFilter(`-(${printFilter(t)})`)(s), !result);
    }),
    RUNS,
  );
});
