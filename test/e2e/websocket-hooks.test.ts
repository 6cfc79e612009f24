import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import WebSocket from 'ws';
import type { Flow, Hook, MitmError } from '../../src/index.js';
import { deferred, hookProxies, type HookProxies } from '../helpers/hook-proxy.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { clientClosed, openClient, refusal } from '../helpers/ws-client.js';
import { startWsOrigin, type WsOrigin } from '../helpers/ws-origin.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const texts = (messages: ReadonlyArray<{ data: Buffer }>): string[] => messages.map((m) => m.data.toString('utf8'));

describe('WebSocket hooks', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let proxies: HookProxies;
  let plain: WsOrigin;
  let secure: WsOrigin;

  before(async () => {
    pki = await createTestPki();
    proxies = await hookProxies(pki);
    plain = await startWsOrigin();
    // Context takeover on both sides: a message dropped or changed on its way would corrupt every
    // later one that refers back to it, unless the proxy accounts for it.
    secure = await startWsOrigin({ tls: pki.origin, perMessageDeflate: { threshold: 0 } });
  });

  after(async () => {
    await plain?.close();
    await secure?.close();
    await proxies?.cleanup();
    await pki?.cleanup();
  });

  it('onWebSocketMessage changes and drops messages both ways over permessage-deflate; later messages still inflate', async (t) => {
    const seen: string[] = [];
    const editor: Hook = {
      name: 'ws-editor',
      onWebSocketMessage(_flow, message) {
        const text = typeof message.data === 'string' ? message.data : message.data.toString('utf8');
        seen.push(`${message.direction} ${message.type} ${text}`);
        if (message.direction === 'client-to-server') {
          if (text === 'drop me, drop me') return null;
          if (text === 'change me, change me') message.data = 'changed';
        } else {
          if (text.startsWith('keep 1')) return null;
          if (text === 'changed') message.data = 'changed twice';
        }
        return undefined;
      },
    };
    const proxy = await proxies.start(t, [editor]);
    const client = await openClient(`${secure.url}/edit`, [], {
      agent: new HttpsProxyAgent(proxy.url),
      ca: proxies.caPem,
      perMessageDeflate: { threshold: 0 },
    });
    const origin = await secure.nextSocket();
    assert.match(String(client.handshake.headers['sec-websocket-extensions']), /^permessage-deflate/);
    // The last message repeats the dropped and changed ones: its compressed form refers back to them.
    for (const text of [
      'keep 1: hello hello',
      'change me, change me',
      'drop me, drop me',
      'keep 2: drop me, drop me, change me, change me',
    ]) {
      client.ws.send(text);
    }
    await origin.received(3);
    assert.deepEqual(texts(origin.messages), ['keep 1: hello hello', 'changed', 'keep 2: drop me, drop me, change me, change me']);
    await client.received(2);
    assert.deepEqual(texts(client.messages), ['changed twice', 'keep 2: drop me, drop me, change me, change me']);
    client.ws.send(Buffer.from('a binary one'));
    await client.received(3);
    assert.equal(client.messages[2]?.isBinary, true);
    assert.ok(seen.includes('client-to-server binary a binary one'));
    client.ws.close();
    const flow = await proxy.waitForFlow((f) => f.request.url.endsWith('/edit'));
    // The record holds what was passed on, after the hooks.
    const recorded = (flow.webSocket?.messages ?? []).filter((m) => m.direction === 'client-to-server');
    assert.deepEqual(
      recorded.map((m) => m.data.toString('utf8')),
      ['keep 1: hello hello', 'changed', 'keep 2: drop me, drop me, change me, change me', 'a binary one'],
    );
  });

  it('1 MiB binary messages round-trip byte-exact while a hook looks at every message', async (t) => {
    const sizes: number[] = [];
    const proxy = await proxies.start(t, [{ name: 'sizes', onWebSocketMessage: (_flow, message) => void sizes.push(message.data.length) }]);
    const client = await openClient(`${secure.url}/big`, [], {
      agent: new HttpsProxyAgent(proxy.url),
      ca: proxies.caPem,
      perMessageDeflate: { threshold: 0 },
    });
    const origin = await secure.nextSocket();
    const payload = randomBytes(1024 * 1024);
    client.ws.send(payload);
    await client.received(1);
    assert.equal(sha256(origin.messages[0]?.data ?? Buffer.alloc(0)), sha256(payload));
    assert.equal(sha256(client.messages[0]?.data ?? Buffer.alloc(0)), sha256(payload));
    assert.deepEqual(sizes, [payload.length, payload.length]);
    client.ws.close();
  });

  it('a message larger than --max-body-buffer streams through unseen by hooks', async (t) => {
    const sizes: number[] = [];
    const proxy = await proxies.start(
      t,
      [{ name: 'sizes', onWebSocketMessage: (_flow, message) => void sizes.push(message.data.length) }],
      {
        maxBodyBuffer: 64 * 1024,
      },
    );
    const client = await openClient(`${plain.url}/over-cap`, [], { agent: new HttpProxyAgent(proxy.url) });
    const origin = await plain.nextSocket();
    const payload = randomBytes(200 * 1024);
    client.ws.send('small');
    client.ws.send(payload);
    client.ws.send('small again');
    await client.received(3);
    assert.equal(sha256(origin.messages[1]?.data ?? Buffer.alloc(0)), sha256(payload));
    assert.equal(sha256(client.messages[1]?.data ?? Buffer.alloc(0)), sha256(payload));
    assert.deepEqual(texts([client.messages[0] ?? { data: Buffer.alloc(0) }]), ['small']);
    // Hooks saw the small messages before the large frame; inspection ends there for that direction.
    assert.deepEqual(sizes, [5, 5]);
    client.ws.close();
  });

  it('onRequest hooks apply to the upgrade request: a header is added, and a mock answers without upgrading', async (t) => {
    const proxy = await proxies.start(t, [
      {
        name: 'upgrade-editor',
        onRequest(flow) {
          if (flow.request.url.endsWith('/mocked'))
            flow.respond({ status: 418, headers: { 'content-type': 'text/plain' }, body: 'no sockets here' });
          else flow.request.headers['x-added'] = 'by a hook';
        },
      },
    ]);
    const mocked = await refusal(new WebSocket(`${plain.url}/mocked`, { agent: new HttpProxyAgent(proxy.url) }));
    assert.equal(mocked.status, 418);
    assert.equal(mocked.body, 'no sockets here');
    const client = await openClient(`${plain.url}/added`, [], { agent: new HttpProxyAgent(proxy.url) });
    const origin = await plain.nextSocket();
    assert.equal(origin.request.url, '/added');
    assert.equal(origin.request.headers['x-added'], 'by a hook');
    client.ws.close();
  });

  it('a hook that throws closes both sides with 1011 and reports the error', async (t) => {
    const failed = deferred<{ flow: Flow; error: MitmError }>();
    const proxy = await proxies.start(t, [
      {
        name: 'thrower',
        onWebSocketMessage(_flow, message) {
          if (message.data === 'boom') throw new Error('kaboom');
        },
        onError: (flow, error) => failed.resolve({ flow, error }),
      },
    ]);
    const client = await openClient(`${plain.url}/boom`, [], { agent: new HttpProxyAgent(proxy.url) });
    const origin = await plain.nextSocket();
    const closed = clientClosed(client.ws);
    client.ws.send('boom');
    assert.equal((await closed).code, 1011);
    assert.equal((await origin.closed).code, 1011);
    const { error } = await failed.promise;
    assert.equal(error.code, 'hook_failed');
    assert.match(error.message, /thrower.*kaboom/);
  });
});
