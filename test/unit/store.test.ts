import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isMitmError } from '../../src/errors.js';
import type { FlowTls } from '../../src/flow/tls-facts.js';
import { loadDriver } from '../../src/record/store/driver.js';
import { headerValues } from '../../src/record/store/reader.js';
import { openStore } from '../../src/record/store/open-store.js';
import { makeFlow, tempDir } from '../helpers/store-flows.js';

// Both sides' TLS facts as a proxy records them (flow.tls).
const TLS: FlowTls = {
  client: { sni: 'example.test', alpnOffered: ['h2', 'http/1.1'], alpn: 'h2', version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  origin: {
    sni: 'example.test',
    alpn: 'h2',
    version: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    resumed: false,
    certificate: {
      subject: 'example.test',
      sans: ['example.test', '127.0.0.1'],
      issuer: 'Test CA',
      validFrom: '2026-01-01T00:00:00.000Z',
      validTo: '2027-01-01T00:00:00.000Z',
      sha256: 'AA:BB',
      chainSha256: ['AA:BB', 'CC:DD'],
    },
  },
};

describe('store: round trip, reopen, query', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    temp = await tempDir('mitm-store-unit-');
  });
  after(async () => {
    await temp.remove();
  });

  it('keeps heads, raw and decoded bodies, timings, errors, tags, WebSocket messages and SSE events', async () => {
    const file = join(temp.dir, 'round-trip.db');
    const store = await openStore(file);
    const text = 'hello '.repeat(100);
    const gzipped = gzipSync(text);
    store.append(
      makeFlow({
        id: 1,
        method: 'POST',
        requestHeaders: ['Host', 'example.test', 'Content-Type', 'application/json', 'X-Twice', 'a', 'X-Twice', 'b'],
        requestBody: '{"a":1}',
        responseHeaders: ['Content-Type', 'text/plain', 'Content-Encoding', 'gzip', 'Content-Length', String(gzipped.length)],
        responseBody: gzipped,
        tags: ['mocked'],
        user: 'alice',
      }),
      { mode: 'regular', tls: TLS, responseBytes: gzipped.length },
    );
    store.append(makeFlow({ id: 2, noResponse: true }), { error: { code: 'upstream_refused', message: 'connection refused' } });
    store.append(
      makeFlow({
        id: 3,
        url: 'https://ws.example.test/socket',
        status: 101,
        responseHeaders: ['Upgrade', 'websocket'],
        webSocket: [
          { direction: 'client-to-server', type: 'text', data: Buffer.from('ping') },
          { direction: 'server-to-client', type: 'binary', data: Buffer.from([0, 1, 2]) },
        ],
      }),
    );
    store.append(
      makeFlow({
        id: 4,
        responseHeaders: ['Content-Type', 'text/event-stream'],
        responseBody: 'event: tick\ndata: 1\n\ndata: two\nid: 9\n\n',
      }),
    );
    await store.close();

    const reopened = await openStore(file);
    try {
      assert.equal(reopened.count(), 4);
      const [first, second, third, fourth] = reopened.query();
      assert.ok(first && second && third && fourth);
      assert.equal(first.method, 'POST');
      assert.equal(first.host, 'example.test');
      assert.equal(first.path, '/items/1?q=1');
      assert.equal(first.status, 200);
      assert.equal(first.contentType, 'text/plain');
      assert.deepEqual(headerValues(first.requestHeaders, 'x-twice'), ['a', 'b']);
      assert.deepEqual(first.requestHeaders[0], ['Host', 'example.test']);
      assert.equal(first.requestBody?.text, '{"a":1}');
      assert.equal(first.requestSize, 7);
      assert.deepEqual(first.responseBody?.raw, gzipped);
      assert.equal(first.responseBody?.contentEncoding, 'gzip');
      assert.equal(first.responseBody?.text, text);
      assert.equal(first.responseBody?.cut, false);
      assert.equal(first.responseSize, gzipped.length);
      assert.deepEqual(first.tags, ['mocked']);
      assert.equal(first.user, 'alice');
      assert.equal(first.mode, 'regular');
      assert.deepEqual(first.tls, TLS);
      assert.deepEqual(first.timings, {
        start: 1_700_000_000_001,
        requestSent: 1_700_000_000_002,
        responseStart: 1_700_000_000_006,
        end: 1_700_000_000_010,
      });
      assert.equal(first.durationMs, 9);
      assert.equal(first.error, undefined);

      assert.equal(second.status, undefined);
      assert.deepEqual(second.error, { code: 'upstream_refused', message: 'connection refused' });
      assert.deepEqual(second.responseHeaders, []);

      assert.equal(third.isWebSocket, true);
      assert.deepEqual(
        third.webSocketMessages.map((m) => [m.seq, m.direction, m.type, m.data.toString('hex'), m.cut]),
        [
          [0, 'client-to-server', 'text', Buffer.from('ping').toString('hex'), false],
          [1, 'server-to-client', 'binary', '000102', false],
        ],
      );

      assert.equal(fourth.isSse, true);
      assert.deepEqual(
        fourth.sseEvents.map((e) => [e.event, e.data, e.id]),
        [
          ['tick', '1', undefined],
          [undefined, 'two', '9'],
        ],
      );
      assert.deepEqual(reopened.get(first.id), first);
      assert.equal(reopened.get(999), undefined);
    } finally {
      await reopened.close();
    }
  });

  it("keeps a body's text once when it is the raw bytes, and every reader still gets the text", async () => {
    const file = join(temp.dir, 'text-once.db');
    const store = await openStore(file);
    const json = '{"name":"café ☕"}';
    const gzipped = gzipSync('hello '.repeat(50));
    try {
      store.append(makeFlow({ id: 1, responseHeaders: ['Content-Type', 'application/json'], responseBody: json }));
      store.append(makeFlow({ id: 2, responseHeaders: ['Content-Type', 'text/plain', 'Content-Encoding', 'gzip'], responseBody: gzipped }));
      // Cut by the recorder in the middle of "é": the text drops the split character, so it is not the raw bytes.
      store.append(makeFlow({ id: 3, recordLimit: 7, responseHeaders: ['Content-Type', 'application/json'], responseBody: '{"a":"é!"}' }));
      store.append(makeFlow({ id: 4, responseHeaders: ['Content-Type', 'text/plain'], responseBody: Buffer.from([0x66, 0xff, 0x6f]) }));
      store.append(makeFlow({ id: 5, responseHeaders: ['Content-Type', 'image/png'], responseBody: 'not text' }));
      const texts = store.query().map((flow) => flow.responseBody?.text);
      assert.deepEqual(texts, [json, 'hello '.repeat(50), '{"a":"', undefined, undefined]);
      assert.deepEqual(
        store.query('res:café').map((flow) => flow.proxyFlowId),
        [1],
      );
      assert.deepEqual(
        store.query('res:hello').map((flow) => flow.proxyFlowId),
        [2],
      );
    } finally {
      await store.close();
    }
    const Database = await loadDriver();
    const db = new Database(file, { readonly: true });
    try {
      assert.deepEqual(
        db.prepare("SELECT flow_id, text IS NULL AS no_copy, text_is_raw FROM bodies WHERE side = 'response' ORDER BY flow_id").all(),
        [
          { flow_id: 1, no_copy: 1, text_is_raw: 1 },
          { flow_id: 2, no_copy: 0, text_is_raw: 0 },
          { flow_id: 3, no_copy: 0, text_is_raw: 0 },
          { flow_id: 4, no_copy: 1, text_is_raw: 0 },
          { flow_id: 5, no_copy: 1, text_is_raw: 0 },
        ],
      );
      assert.deepEqual(
        db.prepare("SELECT flow_id FROM body_texts WHERE text LIKE '%café%'").pluck().all(),
        [1],
        'the body_texts view, for the sqlite3 shell',
      );
    } finally {
      db.close();
    }
  });

  it('queries with where, limit, offset and order; body text is read only when asked for', async () => {
    const store = await openStore(join(temp.dir, 'query.db'));
    try {
      for (let id = 1; id <= 600; id += 1) {
        store.append(makeFlow({ id, status: id % 3 === 0 ? 404 : 200, responseBody: `body ${id}` }));
      }
      let textReads = 0;
      const notFound = store.query({ where: (row) => row.status === 404 });
      assert.equal(notFound.length, 200);
      assert.equal(notFound[0]?.proxyFlowId, 3);
      const page = store.query({ where: (row) => row.status === 404, limit: 5, offset: 10, order: 'desc' });
      assert.deepEqual(
        page.map((flow) => flow.proxyFlowId),
        [570, 567, 564, 561, 558],
      );
      const byText = store.query({
        where: (row) => {
          if (row.status !== 200) return false;
          textReads += 1;
          return row.responseText() === 'body 500';
        },
      });
      assert.deepEqual(
        byText.map((flow) => flow.proxyFlowId),
        [500],
      );
      assert.equal(textReads, 400);
      const listing = store.query({ limit: 2, bodies: false });
      assert.equal(listing[0]?.responseBody, undefined);
      assert.equal(store.stats().written, 600);
    } finally {
      await store.close();
    }
  });

  it('refuses to append after close, and a read-only store refuses to append', async () => {
    const file = join(temp.dir, 'closed.db');
    const store = await openStore(file);
    store.append(makeFlow({ id: 1 }));
    await store.close();
    await store.close();
    assert.throws(
      () => store.append(makeFlow({ id: 2 })),
      (error: unknown) => isMitmError(error) && error.code === 'store_failed' && error.message.includes(file),
    );
    const readonly = await openStore(file, { readonly: true });
    try {
      assert.equal(readonly.count(), 1);
      assert.throws(() => readonly.append(makeFlow({ id: 3 })), /read-only/);
    } finally {
      await readonly.close();
    }
  });
});
