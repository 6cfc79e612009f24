import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Body } from '../../src/flow/body.js';
import { decodeBody } from '../../src/flow/decode.js';

const chunks = (...parts: string[]): Readable => Readable.from(parts.map((part) => Buffer.from(part)));

test('an unread body is sent as the very same stream', () => {
  const source = chunks('a', 'b');
  const body = new Body(source, { cap: 10, what: 'x' });
  const out = body.outgoing();
  assert.equal(out.kind, 'stream');
  assert.equal(out.kind === 'stream' && out.stream, source);
});

test('a read body is buffered once and sent as bytes', async () => {
  const body = new Body(chunks('hello ', 'world'), { cap: 100, what: 'x' });
  assert.equal((await body.read()).toString(), 'hello world');
  assert.equal(await body.read(), await body.read());
  assert.deepEqual(body.outgoing(), { kind: 'bytes', data: Buffer.from('hello world'), replaced: false });
});

test('past the cap the reader gets body_too_large and nothing is lost downstream', async () => {
  const body = new Body(chunks('aaaa', 'bbbb', 'cccc', 'dddd'), { cap: 6, what: 'the response body of GET https://a.test/' });
  await assert.rejects(body.read(), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'body_too_large');
    assert.match(error.message, /the response body of GET https:\/\/a\.test\/ is larger than the 6 byte/);
    return true;
  });
  const out = body.outgoing();
  assert.equal(out.kind, 'stream');
  if (out.kind === 'stream') assert.equal(await text(out.stream), 'aaaabbbbccccdddd');
});

test('a declared length over the cap fails before reading, and the body is sent on whole', async () => {
  // A source that counts how often the stream machinery asks it for data.
  let pulls = 0;
  const source = new Readable({
    read() {
      pulls += 1;
      this.push(Buffer.from('abcdefg'));
      this.push(null);
    },
  });
  const body = new Body(source, { cap: 6, what: 'x', declaredLength: 7 });
  await assert.rejects(body.read(), { code: 'body_too_large' });
  assert.equal(pulls, 0, 'the source was never asked for a byte');
  const out = body.outgoing();
  assert.equal(out.kind === 'stream' && out.stream, source, 'the untouched source is sent on');
  if (out.kind === 'stream') assert.equal(await text(out.stream), 'abcdefg');
});

test('a replacement is sent as bytes marked replaced', () => {
  const body = new Body(chunks('old'), { cap: 10, what: 'x' });
  body.replace('new');
  assert.deepEqual(body.outgoing(), { kind: 'bytes', data: Buffer.from('new'), replaced: true });
});

test('what is sent is recorded up to the limit', async () => {
  const body = new Body(chunks('abc', 'def'), { cap: 0, what: 'x', recordLimit: 4 });
  const out = body.outgoing();
  body.recordSent(out);
  if (out.kind === 'stream') await text(out.stream);
  assert.deepEqual(body.recorded(), { data: Buffer.from('abcd'), truncated: true });
  await assert.rejects(body.read(), { code: 'body_not_recorded' }, 'a streamed body recorded in part cannot be read afterwards');
});

test('a finished body recorded whole reads back from the recording', async () => {
  const body = new Body(chunks('abc', 'def'), { cap: 0, what: 'x', recordLimit: 100 });
  const out = body.outgoing();
  body.recordSent(out);
  if (out.kind === 'stream') await text(out.stream);
  assert.deepEqual(await body.read(), Buffer.from('abcdef'));
});

test('recording stops listening to a streamed body once past the limit', async () => {
  const body = new Body(chunks('abc', 'def', 'ghi', 'jkl'), { cap: 0, what: 'x', recordLimit: 4 });
  const out = body.outgoing();
  assert.equal(out.kind, 'stream');
  if (out.kind !== 'stream') return;
  body.recordSent(out);
  assert.equal(out.stream.listenerCount('data'), 1);
  assert.equal(await text(out.stream), 'abcdefghijkl');
  assert.equal(out.stream.listenerCount('data'), 0);
  assert.deepEqual(body.recorded(), { data: Buffer.from('abcd'), truncated: true });
});

test('gzip, deflate (zlib and raw), br and chains decode; unknown codings are reported', async () => {
  const plain = Buffer.from('décodé');
  assert.deepEqual(await decodeBody(await promisify(zlib.gzip)(plain), 'gzip', 'x'), plain);
  assert.deepEqual(await decodeBody(await promisify(zlib.deflate)(plain), 'deflate', 'x'), plain);
  assert.deepEqual(await decodeBody(await promisify(zlib.deflateRaw)(plain), 'deflate', 'x'), plain);
  assert.deepEqual(await decodeBody(await promisify(zlib.brotliCompress)(plain), 'BR', 'x'), plain);
  const chained = await promisify(zlib.brotliCompress)(await promisify(zlib.gzip)(plain));
  assert.deepEqual(await decodeBody(chained, 'gzip, br', 'x'), plain);
  await assert.rejects(decodeBody(plain, 'compress', 'the body'), { code: 'body_undecodable' });
  await assert.rejects(decodeBody(plain, 'gzip', 'the body'), { code: 'body_undecodable' });
});
