import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStreamParser, serializeEvent } from '../../src/flow/sse.js';

test('blocks end at a blank line with any line ending, CRLF counted once', () => {
  const parser = new EventStreamParser();
  assert.deepEqual(parser.push(Buffer.from('id: 7\r\nevent: tick\r\ndata: a\r\ndata: b\r\nretry: 10\r\n\r\nda')), [
    {
      kind: 'event',
      event: { id: '7', event: 'tick', data: 'a\nb', retry: 10 },
      raw: 'id: 7\r\nevent: tick\r\ndata: a\r\ndata: b\r\nretry: 10\r\n\r\n',
    },
  ]);
  // A CR at the very end may be half of a CRLF: the block waits for the next byte.
  assert.deepEqual(parser.push(Buffer.from('ta:c\r\r')), []);
  assert.deepEqual(parser.push(Buffer.from(':note\n\n')), [
    { kind: 'event', event: { data: 'c' }, raw: 'data:c\r\r' },
    { kind: 'text', raw: ':note\n\n' },
  ]);
  assert.equal(parser.end(), '');
});

test('a UTF-8 character split across chunks survives', () => {
  const parser = new EventStreamParser();
  const bytes = Buffer.from('data: é\n\n');
  assert.deepEqual(parser.push(bytes.subarray(0, 7)), []);
  assert.deepEqual(parser.push(bytes.subarray(7)), [{ kind: 'event', event: { data: 'é' }, raw: 'data: é\n\n' }]);
});

test('events serialize with one data line per line', () => {
  assert.equal(serializeEvent({ id: '1', event: 'x', data: 'a\nb', retry: 5 }), 'id: 1\nevent: x\nretry: 5\ndata: a\ndata: b\n\n');
});
