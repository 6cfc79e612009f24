import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { MitmError } from '../../src/errors.js';
import { Body } from '../../src/flow/body.js';
import { Flow, FlowRequest, FlowResponse } from '../../src/flow/flow.js';
import { harBodyText } from '../../src/record/har-body.js';
import { toHar } from '../../src/record/har.js';
import { validateHar } from '../helpers/har-schema.js';

const CREATOR = { name: 'mitm', version: '0.0.0-test' };

/** A body whose bytes were sent (and so recorded, up to `limit`). */
async function sentBody(data: Buffer | string, limit = 1024): Promise<Body> {
  const body = new Body(Readable.from([Buffer.from(data)]), { cap: 0, what: 'x', recordLimit: limit });
  const out = body.outgoing();
  if (out.kind === 'stream') await text(out.stream);
  return body;
}

async function flowWith(options: {
  raw?: string[];
  response?: { status: number; raw: string[]; body: Buffer | string };
  timings?: Partial<Flow['timings']>;
}): Promise<Flow> {
  const flow = new Flow({
    id: 1,
    connectionId: 7,
    client: { address: '127.0.0.1', port: 5000 },
    start: Date.parse('2024-01-02T03:04:05.000Z'),
    request: new FlowRequest({
      method: 'GET',
      url: 'https://a.test/p?x=1',
      rawHeaders: options.raw ?? ['Host', 'a.test'],
      httpVersion: '1.1',
      body: await sentBody(''),
    }),
  });
  if (options.response) {
    flow.response = new FlowResponse({
      status: options.response.status,
      rawHeaders: options.response.raw,
      httpVersion: '1.1',
      body: await sentBody(options.response.body),
      synthetic: false,
    });
  }
  Object.assign(flow.timings, options.timings ?? {});
  return flow;
}

test('text, base64 and decoding choices', () => {
  const plain = { contentEncoding: '', truncated: false };
  assert.deepEqual(harBodyText(Buffer.from('{"a":1}'), { ...plain, mimeType: 'application/json' }).text, '{"a":1}');
  const png = harBodyText(Buffer.from([0x89, 0x50, 0x4e, 0x47]), { ...plain, mimeType: 'image/png' });
  assert.equal(png.encoding, 'base64');
  assert.equal(png.text, 'iVBORw==');
  // Latin-1 labelled as text is not valid UTF-8: base64 keeps it exact.
  assert.equal(harBodyText(Buffer.from([0x63, 0x61, 0x66, 0xe9]), { ...plain, mimeType: 'text/plain' }).encoding, 'base64');
  // Unlabelled: printable UTF-8 is text, control bytes are not.
  assert.equal(harBodyText(Buffer.from('hi there'), { ...plain, mimeType: '' }).encoding, undefined);
  assert.equal(harBodyText(Buffer.from('a\u0000b'), { ...plain, mimeType: '' }).encoding, 'base64');

  const gz = harBodyText(gzipSync('décodé'), { contentEncoding: 'gzip', mimeType: 'text/plain', truncated: false });
  assert.deepEqual([gz.text, gz.size, gz.decoded], ['décodé', Buffer.byteLength('décodé'), true]);
  const chained = brotliCompressSync(gzipSync('two codings'));
  assert.equal(harBodyText(chained, { contentEncoding: 'gzip, br', mimeType: 'text/plain', truncated: false }).text, 'two codings');
});

test('a truncated gzip prefix inflates to the start of the text; a cut character is dropped', () => {
  const original = 'ü'.repeat(50_000);
  const compressed = gzipSync(original);
  const result = harBodyText(compressed.subarray(0, compressed.length - 20), {
    contentEncoding: 'gzip',
    mimeType: 'text/plain; charset=utf-8',
    truncated: true,
  });
  assert.equal(result.encoding, undefined);
  assert.ok(result.text.length > 0 && original.startsWith(result.text));
  const cut = harBodyText(Buffer.from('aü').subarray(0, 2), { contentEncoding: '', mimeType: 'text/plain', truncated: true });
  assert.equal(cut.text, 'a');
});

test('undecodable and oversized bodies fall back to the bytes as sent, with a comment', () => {
  const unknown = harBodyText(Buffer.from('abc'), { contentEncoding: 'compress', mimeType: 'text/plain', truncated: false });
  assert.deepEqual([unknown.text, unknown.decoded], ['abc', false]);
  assert.match(unknown.comment ?? '', /unsupported coding compress/);
  const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
  const capped = harBodyText(bomb, { contentEncoding: 'gzip', mimeType: 'text/plain', truncated: false });
  assert.equal(capped.decoded, false);
  assert.equal(capped.size, bomb.length);
  assert.match(capped.comment ?? '', /exceeds \d+ bytes/);
});

test('timings split at the milestones and add up to time', async () => {
  const at = Date.parse('2024-01-02T03:04:05.000Z');
  const flow = await flowWith({
    response: { status: 204, raw: [], body: '' },
    timings: { requestSent: at + 3, responseStart: at + 10, end: at + 15 },
  });
  const [entry] = validateHar(toHar([flow], CREATOR)).log.entries;
  assert.deepEqual(entry?.timings, { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 3, wait: 7, receive: 5 });
  assert.equal(entry?.time, 15);
  assert.equal(entry?.startedDateTime, '2024-01-02T03:04:05.000Z');
  assert.equal(entry?.connection, '7');
  assert.equal(entry?.response.statusText, 'No Content');
});

test('a failed flow has status 0 and _error; cookies and redirects are parsed', async () => {
  const at = Date.parse('2024-01-02T03:04:05.000Z');
  const failed = await flowWith({ raw: ['Cookie', 'a=1; b=x=y', 'Host', 'a.test'], timings: { requestSent: at + 1, end: at + 30 } });
  failed.error = new MitmError('upstream_timeout', 'a.test:443 did not answer within 30 ms');
  const redirect = await flowWith({
    response: {
      status: 302,
      raw: [
        'Location',
        '/next',
        'Set-Cookie',
        's=1; Max-Age=60; Secure',
        'Set-Cookie',
        't=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Domain=a.test',
      ],
      body: '',
    },
    timings: { requestSent: at, responseStart: at + 1, end: at + 2 },
  });
  const har = validateHar(toHar([redirect, failed], CREATOR));
  // Same start: the order given is kept.
  const [second, first] = har.log.entries;
  assert.equal(first?.response.status, 0);
  assert.deepEqual(first?._error, { code: 'upstream_timeout', message: 'a.test:443 did not answer within 30 ms' });
  assert.deepEqual(first?.timings, { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 1, wait: 29, receive: 0 });
  assert.deepEqual(first?.request.cookies, [
    { name: 'a', value: '1' },
    { name: 'b', value: 'x=y' },
  ]);
  assert.equal(second?.response.redirectURL, '/next');
  assert.deepEqual(second?.response.cookies, [
    { name: 's', value: '1', secure: true, expires: new Date(at + 1 + 60_000).toISOString() },
    { name: 't', value: '2', domain: 'a.test', expires: '2015-10-21T07:28:00.000Z' },
  ]);
});
