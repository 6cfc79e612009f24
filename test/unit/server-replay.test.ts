import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseReplayMatch } from '../../src/config/replay-match.js';
import { Body } from '../../src/flow/body.js';
import { Flow, FlowRequest } from '../../src/flow/flow.js';
import { bodyKey, headKey, type MatchRules } from '../../src/record/replay-match.js';
import { serverReplay } from '../../src/record/server-replay.js';
import { flowRows } from '../../src/record/store/flow-rows.js';
import { storedFromRows } from '../../src/record/store/stored-from-rows.js';
import type { StoredFlow } from '../../src/record/store/types.js';
import { makeFlow, type FlowSpec } from '../helpers/store-flows.js';

function rules(match = 'method,url,body', ignoreParams: string[] = [], ignoreHeaders: string[] = []): MatchRules {
  return { match: parseReplayMatch(match), ignoreParams: new Set(ignoreParams), ignoreHeaders: new Set(ignoreHeaders) };
}

function recorded(spec: FlowSpec): StoredFlow {
  return storedFromRows(flowRows(makeFlow(spec), {}, spec.recordLimit ?? 2 ** 20), spec.id);
}

/** A live request as the hook sees it, its body still to be read. */
function live(method: string, url: string, rawHeaders: string[] = [], body?: string): Flow {
  const request = new FlowRequest({
    method,
    url,
    rawHeaders,
    httpVersion: '1.1',
    body: new Body(Readable.from(body === undefined ? [] : [Buffer.from(body)]), { cap: 2 ** 20, what: 'a test request body' }),
  });
  return new Flow({ id: 1, connectionId: 1, client: { address: '127.0.0.1', port: 1 }, request, start: Date.now() });
}

describe('replay matching keys', () => {
  it('a URL matches with its query in any order and its default port stated or not', () => {
    const key = (url: string): string => headKey(rules(), 'GET', url, []);
    assert.equal(key('https://a.test/x?b=2&a=1'), key('https://a.test:443/x?a=1&b=2'));
    assert.equal(key('http://a.test/x'), key('http://A.TEST:80/x'));
    assert.notEqual(key('https://a.test/x'), key('http://a.test/x'));
    assert.notEqual(key('https://a.test/x?a=1'), key('https://a.test/x?a=2'));
    assert.notEqual(key('https://a.test/x'), key('https://a.test/y'));
    assert.notEqual(headKey(rules(), 'GET', 'https://a.test/x', []), headKey(rules(), 'POST', 'https://a.test/x', []));
    assert.equal(headKey(rules('url'), 'GET', 'https://a.test/x', []), headKey(rules('url'), 'POST', 'https://a.test/x', []));
    const loose = rules('method,url', ['ts']);
    assert.equal(headKey(loose, 'GET', 'https://a.test/x?ts=1&a=1', []), headKey(loose, 'GET', 'https://a.test/x?a=1', []));
  });

  it('form bodies by their parameters, JSON by its value (ignored fields at any depth), others by their bytes', () => {
    const r = rules('body', ['nonce']);
    const form = 'application/x-www-form-urlencoded';
    assert.equal(bodyKey(r, Buffer.from('a=1&b=2&nonce=x'), form), bodyKey(r, Buffer.from('b=2&a=1'), form));
    const json = 'application/json; charset=utf-8';
    assert.equal(
      bodyKey(r, Buffer.from('{"a":1,"b":{"nonce":5,"c":[1,2]}}'), json),
      bodyKey(r, Buffer.from('{ "b": {"c": [1, 2]}, "a": 1 }'), 'application/vnd.api+json'),
    );
    assert.notEqual(bodyKey(r, Buffer.from('{"a":[1,2]}'), json), bodyKey(r, Buffer.from('{"a":[2,1]}'), json));
    assert.notEqual(bodyKey(r, Buffer.from('a=1&b=2'), 'text/plain'), bodyKey(r, Buffer.from('b=2&a=1'), 'text/plain'));
    assert.equal(bodyKey(r, Buffer.alloc(0), json), '');
  });

  it('headers: the ones named, or all but hop-by-hop, framing and ignored ones', () => {
    const named = rules('url,header:X-Tenant');
    const url = 'https://a.test/';
    assert.equal(
      headKey(named, 'GET', url, [['x-tenant', 'a']]),
      headKey(named, 'GET', url, [
        ['X-Tenant', 'a'],
        ['x-other', '1'],
      ]),
    );
    assert.notEqual(headKey(named, 'GET', url, [['x-tenant', 'a']]), headKey(named, 'GET', url, [['x-tenant', 'b']]));
    assert.notEqual(headKey(named, 'GET', url, [['x-tenant', '']]), headKey(named, 'GET', url, []));
    const all = rules('url,headers', [], ['x-trace']);
    assert.equal(
      headKey(all, 'GET', url, [
        ['Accept', '*/*'],
        ['Connection', 'keep-alive'],
        ['Host', 'a.test'],
        ['x-trace', '1'],
      ]),
      headKey(all, 'GET', url, [
        ['accept', '*/*'],
        ['x-trace', '2'],
        ['content-length', '0'],
      ]),
    );
    assert.notEqual(headKey(all, 'GET', url, [['accept', '*/*']]), headKey(all, 'GET', url, [['accept', 'text/html']]));
  });

  it('--replay-match refuses an unknown part, naming it', () => {
    assert.throws(() => parseReplayMatch('method,,url'), /"method,,url": an empty part is not one of method, url, body/);
    assert.throws(() => parseReplayMatch('header:'), /"header:" is not one of/);
    assert.deepEqual(parseReplayMatch('url, header:X-A'), { method: false, url: true, body: false, headers: ['x-a'] });
  });
});

describe('serverReplay', () => {
  it('leaves out what it cannot answer with, and says why', () => {
    const replay = serverReplay([
      recorded({ id: 1, url: 'https://a.test/cut', responseBody: 'x'.repeat(100), recordLimit: 10 }),
      recorded({ id: 2, url: 'https://a.test/none', noResponse: true }),
      recorded({ id: 3, url: 'https://a.test/ws', status: 101, webSocket: [] }),
      recorded({ id: 4, url: 'https://a.test/lost', responseHeaders: ['Content-Length', '5'] }),
      recorded({ id: 5, url: 'https://a.test/ok', responseBody: 'fine' }),
      recorded({ id: 6, url: 'https://a.test/earlier', status: 404, tags: ['replay-unmatched'] }),
    ]);
    assert.equal(replay.recordings, 1);
    assert.deepEqual(
      replay.leftOut.map(({ url, reason }) => [new URL(url).pathname, reason]),
      [
        ['/cut', 'its response body was cut at 10 bytes when recorded (--record-body-limit, --store-body-limit)'],
        ['/none', 'no response was recorded (aborted)'],
        ['/ws', 'a WebSocket connection is not replayed'],
        ['/lost', 'its response body was not recorded'],
        ['/earlier', 'it is an earlier replay_unmatched answer, not a recorded one'],
      ],
    );
  });

  it('answers decoded, without hop-by-hop or framing fields; a 404 explains a recording left out', async () => {
    const replay = serverReplay(
      [
        recorded({
          id: 1,
          url: 'https://a.test/gz',
          responseHeaders: [
            'Content-Type',
            'text/plain',
            'Content-Encoding',
            'gzip',
            'Connection',
            'close',
            'Set-Cookie',
            'a=1',
            'Set-Cookie',
            'b=2',
          ],
          responseBody: gzipSync('hello'),
        }),
        recorded({ id: 2, url: 'https://a.test/cut', responseBody: 'x'.repeat(100), recordLimit: 10 }),
      ],
      { unmatched: '404' },
    );
    const served = live('GET', 'https://a.test/gz');
    await replay.hook.onRequest(served);
    assert.equal(served.response?.status, 200);
    assert.deepEqual(served.response?.headers, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
    assert.equal(await served.response?.text(), 'hello');
    assert.ok(served.tags.has('from-recording'));

    const cut = live('GET', 'https://a.test/cut');
    await replay.hook.onRequest(cut);
    assert.equal(cut.response?.status, 404);
    assert.equal(cut.response?.header('x-mitm-error'), 'replay_unmatched');
    assert.equal(
      await cut.response?.text(),
      'no recorded response matches GET https://a.test/cut (its recording was left out: its response body was cut at 10 bytes when recorded (--record-body-limit, --store-body-limit))\n',
    );
    assert.ok(cut.tags.has('replay-unmatched'));
  });

  it('a body is read only when a recording shares method and URL; forward leaves the rest alone', async () => {
    const replay = serverReplay([recorded({ id: 1, method: 'POST', url: 'https://a.test/p', requestBody: 'a=1', responseBody: 'one' })]);
    const other = live('POST', 'https://a.test/elsewhere', [], 'a=1');
    await replay.hook.onRequest(other);
    assert.equal(other.response, undefined);
    assert.equal(other.request.bodyStore.outgoing().kind, 'stream', 'the upload still streams, unread');
    const wrongBody = live('POST', 'https://a.test/p', [], 'a=2');
    await replay.hook.onRequest(wrongBody);
    assert.equal(wrongBody.response, undefined);
    const same = live('POST', 'https://a.test/p', [], 'a=1');
    await replay.hook.onRequest(same);
    assert.equal(await same.response?.text(), 'one');
  });
});
