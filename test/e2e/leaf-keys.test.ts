import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { curlVia } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy } from '../helpers/proxy.js';
import { pythonGet } from '../helpers/python.js';
import { leafViaSClient } from '../helpers/tls-probe.js';

// Minted leaves are ECDSA P-256 by default (--leaf-key ec) or RSA-2048 (--leaf-key rsa), both under
// the RSA root: every client here must accept either.
describe('proxy: leaf key types', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let dir = '';

  before(async () => {
    pki = await createTestPki();
    origin = await startOrigin(pki.origin);
    dir = await mkdtemp(join(tmpdir(), 'mitm-leaf-keys-'));
  });

  after(async () => {
    await origin?.close();
    await pki?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [leafKey, keyType] of [
    ['ec', 'ec'],
    ['rsa', 'rsa'],
  ] as const) {
    it(`--leaf-key ${leafKey}: openssl s_client sees a ${keyType} leaf; curl and Python accept it`, async () => {
      const mitm = await startTestProxy(pki, { leafKey });
      try {
        const seen = await leafViaSClient(mitm.port, `localhost:${origin.port}`, 'localhost', dir, `${leafKey}.pem`);
        assert.equal(seen.x509.publicKey.asymmetricKeyType, keyType);

        const url = `https://localhost:${origin.port}/hello`;
        const viaCurl = await curlVia(mitm.url, [url], mitm.caPath);
        assert.equal(viaCurl.exitCode, 0, viaCurl.stderr);
        assert.equal(viaCurl.text, 'hello');

        const python = await pythonGet(url, mitm.caPath, mitm.url);
        assert.equal(python.code, 0, python.stderr);
        assert.equal(python.stdout.toString('utf8'), '200 hello');
      } finally {
        await mitm.close();
      }
    });
  }
});
