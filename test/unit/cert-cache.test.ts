import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type SecureContext } from 'node:tls';
import { initCa, type CertificateAuthority } from '../../src/ca/authority.js';
import { createCertCache, refreshAfterMs } from '../../src/ca/cert-cache.js';
import { createLeafMinter, type LeafCertificate, type LeafMinter } from '../../src/ca/mint-leaf.js';
import { isMitmError } from '../../src/errors.js';
import { deferred } from '../helpers/hook-proxy.js';

const DAY_MS = 24 * 60 * 60 * 1000;

let tmp = '';
let ca: CertificateAuthority;
let realMinter: LeafMinter;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mitm-cert-cache-'));
  ca = (await initCa(join(tmp, 'ca'))).ca;
  realMinter = await createLeafMinter(ca);
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Wraps the real minter, recording each host it is asked for; `failures` makes the next calls throw. */
function countingMinter(failures = 0): LeafMinter & { readonly calls: string[] } {
  const calls: string[] = [];
  let failuresLeft = failures;
  return {
    calls,
    async mint(host: string): Promise<LeafCertificate> {
      calls.push(host);
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('mint failed on purpose');
      }
      return realMinter.mint(host);
    },
  };
}

/** Serves one TLS handshake for `servername` with `context` on 127.0.0.1 and returns the subjectAltName the client saw. */
async function servedSan(context: SecureContext, servername: string): Promise<string | undefined> {
  const server = createServer({ SNICallback: (_name, callback) => callback(null, context) });
  server.on('secureConnection', (socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const socket = connect({ host: '127.0.0.1', port, servername, ca: ca.certPem });
    try {
      await once(socket, 'secureConnect');
      assert.equal(socket.authorized, true, `the leaf for ${servername} verifies against the CA`);
      return socket.getPeerX509Certificate()?.subjectAltName;
    } finally {
      socket.destroy();
    }
  } finally {
    server.close();
    await once(server, 'close');
  }
}

test('20 concurrent misses for one host share one mint and one context', async () => {
  // The mint is held open until all 20 gets are in, so every one of them is a miss in flight.
  const gate = deferred();
  const calls: string[] = [];
  const minter: LeafMinter = {
    async mint(host, extraNames) {
      calls.push(host);
      await gate.promise;
      return realMinter.mint(host, extraNames);
    },
  };
  const cache = createCertCache(minter, { max: 10 });
  const pending = Array.from({ length: 20 }, () => cache.get('a.test'));
  assert.equal(cache.size, 1, 'one mint in flight');
  gate.resolve();
  const contexts = await Promise.all(pending);
  const [first] = contexts;
  assert.ok(first);
  assert.deepEqual(calls, ['a.test']);
  assert.ok(
    contexts.every((context) => context === first),
    'every caller got the very same SecureContext',
  );
  assert.equal(cache.size, 1);
  assert.equal(await cache.get('a.test'), first, 'a later hit reuses the entry');
  assert.equal(calls.length, 1);
  assert.equal(await servedSan(first, 'a.test'), 'DNS:a.test');
});

test('distinct hosts get distinct contexts, each serving a leaf for its own host', async () => {
  const minter = countingMinter();
  const cache = createCertCache(minter, { max: 10 });
  const hosts = ['one.test', 'two.test', 'three.test'];
  const contexts = await Promise.all(hosts.map((host) => cache.get(host)));
  assert.equal(new Set<SecureContext>(contexts).size, hosts.length);
  assert.deepEqual([...minter.calls].sort(), [...hosts].sort());
  for (const [i, host] of hosts.entries()) {
    const context = contexts[i];
    assert.ok(context);
    assert.equal(await servedSan(context, host), `DNS:${host}`);
  }
});

test('hosts are normalised into one cache key', async () => {
  const minter = countingMinter();
  const cache = createCertCache(minter, { max: 10 });
  const first = await cache.get('b.test');
  assert.equal(await cache.get('B.Test.'), first);
  assert.deepEqual(minter.calls, ['b.test']);
});

test('an invalid host is rejected with host_invalid without minting', async () => {
  const minter = countingMinter();
  const cache = createCertCache(minter, { max: 10 });
  await assert.rejects(cache.get('a/b'), (err: unknown) => isMitmError(err) && err.code === 'host_invalid');
  assert.deepEqual(minter.calls, []);
  assert.equal(cache.size, 0);
});

test('a failed mint is not cached: the next get mints again', async () => {
  const minter = countingMinter(1);
  const cache = createCertCache(minter, { max: 10 });
  await assert.rejects(cache.get('flaky.test'), /mint failed on purpose/);
  assert.equal(cache.size, 0);
  await cache.get('flaky.test');
  assert.deepEqual(minter.calls, ['flaky.test', 'flaky.test']);
  assert.equal(cache.size, 1);
});

test('the cache holds at most max entries, evicting the least recently used', async () => {
  const minter = countingMinter();
  const cache = createCertCache(minter, { max: 2 });
  const one = await cache.get('one.test');
  await cache.get('two.test');
  assert.equal(await cache.get('one.test'), one, 'one.test is now the most recently used');
  await cache.get('three.test');
  assert.equal(cache.size, 2);
  assert.equal(await cache.get('one.test'), one, 'the recently used entry survived');
  assert.deepEqual(minter.calls, ['one.test', 'two.test', 'three.test']);
  const twoAgain = await cache.get('two.test');
  assert.deepEqual(minter.calls, ['one.test', 'two.test', 'three.test', 'two.test'], 'two.test was evicted and is minted anew');
  assert.equal(await servedSan(twoAgain, 'two.test'), 'DNS:two.test');
});

test("a burst of more distinct hosts than max still gives every caller its own host's context", async () => {
  const minter = countingMinter();
  const cache = createCertCache(minter, { max: 2 });
  const hosts = Array.from({ length: 10 }, (_, i) => `burst-${i}.test`);
  const contexts = await Promise.all(hosts.map((host) => cache.get(host)));
  assert.deepEqual([...minter.calls].sort(), [...hosts].sort(), 'one mint per host');
  assert.equal(new Set<SecureContext>(contexts).size, hosts.length, "no caller got another host's context");
  // Mints in flight cannot be evicted by the burst, so each caller got a context for its own host.
  for (const [i, host] of hosts.entries()) {
    const context = contexts[i];
    assert.ok(context);
    assert.equal(await servedSan(context, host), `DNS:${host}`);
  }
  assert.equal(cache.size, 2, 'once the burst is over the cache is back to max');
});

test('the cached context serves a TLS handshake that verifies against the CA', async () => {
  const cache = createCertCache(realMinter, { max: 10 });
  const server = createServer({
    SNICallback: (servername, callback) => {
      cache.get(servername).then(
        (context) => callback(null, context),
        (err: Error) => callback(err),
      );
    },
  });
  server.on('secureConnection', (socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const socket = connect({ host: '127.0.0.1', port, servername: 'tls.test', ca: ca.certPem });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    const peer = socket.getPeerX509Certificate();
    assert.ok(peer instanceof X509Certificate);
    assert.equal(peer.subjectAltName, 'DNS:tls.test');
    socket.destroy();
  } finally {
    server.close();
    await once(server, 'close');
  }
});

test('entries are re-minted a week before the leaf expires', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(refreshAfterMs(new Date(now + 196 * DAY_MS), now), 189 * DAY_MS);
  // A leaf cut short by an expiring CA is still served for half of what remains.
  assert.equal(refreshAfterMs(new Date(now + 10 * DAY_MS), now), 5 * DAY_MS);
  assert.equal(refreshAfterMs(new Date(now - DAY_MS), now), 1, 'never 0, which lru-cache reads as "no ttl"');
});
test('extra names are part of the key: same names in any order share an entry, other names mint anew', async () => {
  const calls: Array<[string, readonly string[]]> = [];
  const minter: LeafMinter = {
    async mint(host, extraNames = []) {
      calls.push([host, extraNames]);
      return realMinter.mint(host, extraNames);
    },
  };
  const cache = createCertCache(minter, { max: 10 });
  const first = await cache.get('10.0.0.1', ['b.test', 'a.test']);
  assert.equal(await cache.get('10.0.0.1', ['a.test', 'b.test']), first);
  assert.notEqual(await cache.get('10.0.0.1'), first);
  assert.deepEqual(calls, [
    ['10.0.0.1', ['a.test', 'b.test']],
    ['10.0.0.1', []],
  ]);
});
