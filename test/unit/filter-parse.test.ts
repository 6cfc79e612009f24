import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMitmError } from '../../src/errors.js';
import { FilterError, parseFilter, printFilter, type FilterNode } from '../../src/record/filter/filter.js';

const text = (value: string): FilterNode => ({ kind: 'text', value });

/** The FilterError `filter` throws, checked for its code and message shape. */
function failure(filter: string): FilterError {
  try {
    parseFilter(filter);
  } catch (error) {
    assert.ok(error instanceof FilterError, `${filter}: ${String(error)}`);
    assert.ok(isMitmError(error));
    assert.equal(error.code, 'filter_invalid');
    assert.equal(error.status, 400);
    assert.equal(error.message, `invalid filter at column ${error.column}: ${error.reason}`);
    return error;
  }
  assert.fail(`${JSON.stringify(filter)} parsed`);
}

test('empty and blank filters are `all`', () => {
  assert.deepEqual(parseFilter(''), { kind: 'all' });
  assert.deepEqual(parseFilter('  \t '), { kind: 'all' });
  assert.equal(printFilter({ kind: 'all' }), '');
});

test('space is AND, OR binds looser, parentheses group', () => {
  assert.deepEqual(parseFilter('a b OR c'), {
    kind: 'or',
    items: [{ kind: 'and', items: [text('a'), text('b')] }, text('c')],
  });
  assert.deepEqual(parseFilter('a (b OR c)'), {
    kind: 'and',
    items: [text('a'), { kind: 'or', items: [text('b'), text('c')] }],
  });
  assert.deepEqual(parseFilter('a OR b OR c'), { kind: 'or', items: [text('a'), text('b'), text('c')] });
  assert.deepEqual(parseFilter('a AND b'), parseFilter('a b'), 'AND may be written');
  assert.deepEqual(parseFilter('((a))'), text('a'));
  assert.deepEqual(parseFilter('a (b c)'), { kind: 'and', items: [text('a'), { kind: 'and', items: [text('b'), text('c')] }] });
  assert.equal(printFilter(parseFilter('a (b c)')), 'a (b c)', 'a group keeps its parentheses');
  assert.equal(printFilter(parseFilter('(a b) OR c')), 'a b OR c', 'redundant ones go');
});

test('- negates a term or a group; inside a word it is literal', () => {
  assert.deepEqual(parseFilter('-a'), { kind: 'not', item: text('a') });
  assert.deepEqual(parseFilter('-(a OR b)'), { kind: 'not', item: { kind: 'or', items: [text('a'), text('b')] } });
  assert.deepEqual(parseFilter('--a'), { kind: 'not', item: { kind: 'not', item: text('a') } });
  assert.deepEqual(parseFilter('a-b'), text('a-b'));
  assert.deepEqual(parseFilter('-status:5xx'), { kind: 'not', item: { kind: 'status', op: 'class', value: 5 } });
});

test('quotes: spaces, keywords, escapes, and text that looks like a field', () => {
  assert.deepEqual(parseFilter('"a b"'), text('a b'));
  assert.deepEqual(parseFilter('"OR"'), text('OR'));
  assert.deepEqual(parseFilter('or'), text('or'), 'only upper-case OR is the keyword');
  assert.deepEqual(parseFilter('"-x"'), text('-x'));
  assert.deepEqual(parseFilter('"say \\"hi\\" \\\\ \\n"'), text('say "hi" \\ \\n'));
  assert.deepEqual(parseFilter('"host:x"'), text('host:x'));
  assert.deepEqual(parseFilter('ab"c d"e'), text('abc de'), 'quoted parts join the word they touch');
  assert.deepEqual(parseFilter('host:"a b"'), { kind: 'field', field: 'host', value: 'a b' });
  assert.deepEqual(parseFilter('header:x-a="b c"'), { kind: 'header', name: 'x-a', value: 'b c' });
});

test('URLs and host:port are text, not fields', () => {
  assert.deepEqual(parseFilter('https://api.test/x'), text('https://api.test/x'));
  assert.deepEqual(parseFilter('localhost:8080'), text('localhost:8080'));
  assert.deepEqual(parseFilter('10.0.0.1:80'), text('10.0.0.1:80'));
});

test('field names ignore case and print lower-case', () => {
  assert.deepEqual(parseFilter('HOST:a.test'), { kind: 'field', field: 'host', value: 'a.test' });
  assert.equal(printFilter(parseFilter('Method:get')), 'method:get');
});

test('status: a code, a class, a comparison', () => {
  assert.deepEqual(parseFilter('status:404'), { kind: 'status', op: '=', value: 404 });
  assert.deepEqual(parseFilter('status:5XX'), { kind: 'status', op: 'class', value: 5 });
  assert.deepEqual(parseFilter('status:>=400'), { kind: 'status', op: '>=', value: 400 });
  assert.deepEqual(parseFilter('status:<300'), { kind: 'status', op: '<', value: 300 });
  assert.equal(printFilter(parseFilter('status:=200')), 'status:200');
});

test('size: 1024-based suffixes, bare means at least, printed in the largest exact unit', () => {
  assert.deepEqual(parseFilter('size:>100k'), { kind: 'size', op: '>', bytes: 102_400 });
  assert.deepEqual(parseFilter('size:>100KiB'), parseFilter('size:>100k'));
  assert.deepEqual(parseFilter('size:>100kB'), parseFilter('size:>100k'));
  assert.deepEqual(parseFilter('size:2m'), { kind: 'size', op: '>=', bytes: 2 * 1024 * 1024 });
  assert.deepEqual(parseFilter('size:<=1.5k'), { kind: 'size', op: '<=', bytes: 1536 });
  assert.deepEqual(parseFilter('size:=0'), { kind: 'size', op: '=', bytes: 0 });
  assert.equal(printFilter(parseFilter('size:>102400')), 'size:>100k');
  assert.equal(printFilter(parseFilter('size:1g')), 'size:>=1g');
  assert.equal(printFilter(parseFilter('size:1500b')), 'size:>=1500');
});

test('duration: ms by default, s allowed, printed as s when whole seconds', () => {
  assert.deepEqual(parseFilter('duration:>500ms'), { kind: 'duration', op: '>', ms: 500 });
  assert.deepEqual(parseFilter('duration:>500'), { kind: 'duration', op: '>', ms: 500 });
  assert.deepEqual(parseFilter('duration:>1.5s'), { kind: 'duration', op: '>', ms: 1500 });
  assert.deepEqual(parseFilter('duration:2s'), { kind: 'duration', op: '>=', ms: 2000 });
  assert.equal(printFilter(parseFilter('duration:<2000ms')), 'duration:<2s');
  assert.equal(printFilter(parseFilter('duration:<0.25ms')), 'duration:<0.25ms');
});

test('header, error, user, type', () => {
  assert.deepEqual(parseFilter('header:X-Trace'), { kind: 'header', name: 'X-Trace', value: undefined });
  assert.deepEqual(parseFilter('header:accept=*json*'), { kind: 'header', name: 'accept', value: '*json*' });
  assert.deepEqual(parseFilter('header:a=b=c'), { kind: 'header', name: 'a', value: 'b=c' });
  assert.deepEqual(parseFilter('error:'), { kind: 'error', code: undefined });
  assert.deepEqual(parseFilter('error:upstream_tls'), { kind: 'error', code: 'upstream_tls' });
  assert.deepEqual(parseFilter('error:upstream_*'), { kind: 'error', code: 'upstream_*' });
  assert.deepEqual(parseFilter('error:aborted'), { kind: 'error', code: 'aborted' });
  assert.deepEqual(parseFilter('user:'), { kind: 'user', name: undefined });
  assert.deepEqual(parseFilter('user:alice'), { kind: 'user', name: 'alice' });
  assert.deepEqual(parseFilter('type:JSON'), { kind: 'field', field: 'type', value: 'JSON' });
  assert.deepEqual(parseFilter('type:application/xml'), { kind: 'field', field: 'type', value: 'application/xml' });
  assert.deepEqual(parseFilter('type:image/*'), { kind: 'field', field: 'type', value: 'image/*' });
});

test('errors point at the column and length to underline', () => {
  const cases: readonly (readonly [string, number, number, RegExp])[] = [
    ['host:x.com stauts:404', 12, 6, /^unknown field "stauts" \(did you mean status\?\)$/],
    ['foo:bar', 1, 3, /unknown field "foo"; to search for the text, quote it: "foo:bar"/],
    ['a "b c', 3, 4, /unterminated quoted string/],
    ['(a OR b', 1, 1, /"\(" is never closed/],
    ['a b)', 4, 1, /unexpected "\)"/],
    ['a ()', 3, 2, /empty parentheses/],
    ['a OR', 3, 2, /expected a term after OR/],
    ['OR a', 1, 2, /expected a term before OR/],
    ['a OR OR b', 3, 2, /expected a term after OR/],
    ['AND a', 1, 3, /expected a term before AND/],
    ['a -', 3, 1, /expected a term after "-"/],
    ['-)', 1, 1, /expected a term after "-"/],
    ['status:abc', 8, 3, /invalid status "abc"/],
    ['status:42', 8, 2, /invalid status "42"/],
    ['status:', 1, 7, /invalid status ""/],
    ['size:>lots', 6, 5, /invalid size ">lots"/],
    ['size:1t', 6, 2, /invalid size/],
    ['duration:>5min', 10, 5, /invalid duration ">5min"/],
    ['type:jsn', 6, 3, /unknown type "jsn" \(did you mean json\?\)/],
    ['error:upstream_tsl', 7, 12, /unknown error code "upstream_tsl" \(did you mean upstream_tls\?\)/],
    ['host:', 1, 5, /host: needs a value/],
    ['header:', 1, 7, /header: needs a name/],
    ['header:=x', 8, 2, /header: needs a name/],
    ['header:"a b"', 8, 5, /invalid header name "a b"/],
  ];
  for (const [filter, column, length, reason] of cases) {
    const error = failure(filter);
    assert.match(error.reason, reason, filter);
    assert.deepEqual([error.column, error.length], [column, length], `${filter}: ${error.message}`);
  }
});

test('deep nesting is refused with a FilterError, not a stack overflow', () => {
  assert.match(failure(`${'('.repeat(100_000)}a${')'.repeat(100_000)}`).reason, /nested deeper than 64 levels/);
  assert.match(failure(`${'-'.repeat(100_000)}a`).reason, /nested deeper than 64 levels/);
  assert.deepEqual(parseFilter(`${'('.repeat(60)}a${')'.repeat(60)}`), text('a'));
});
