import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { isMitmError } from '../../src/index.js';
import { curlVia } from '../helpers/curl.js';
import { listenLocal, type Listening } from '../helpers/listen.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, TestProxies, type TestProxy } from '../helpers/proxy.js';
import { runOk } from '../helpers/run.js';

const CLIENT_EXTENSIONS = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';

/** A client certificate signed by the test CA, as one PEM (certificate + key) and as a passphrase-protected .p12. */
async function makeClientCert(pki: TestPki): Promise<{ pem: string; p12: string }> {
  const file = (name: string): string => join(pki.dir, name);
  await writeFile(file('client.ext'), CLIENT_EXTENSIONS);
  await runOk('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=mitm test client',
    '-keyout',
    file('client-key.pem'),
    '-out',
    file('client.csr'),
  ]);
  await runOk('openssl', [
    'x509',
    '-req',
    '-in',
    file('client.csr'),
    '-CA',
    pki.ca.certPath,
    '-CAkey',
    pki.ca.keyPath,
    '-set_serial',
    '0x2a',
    '-days',
    '2',
    '-extfile',
    file('client.ext'),
    '-out',
    file('client.pem'),
  ]);
  const pem = file('client-bundle.pem');
  await writeFile(pem, `${await readFile(file('client.pem'), 'utf8')}${await readFile(file('client-key.pem'), 'utf8')}`);
  const p12 = file('client.p12');
  await runOk('openssl', [
    'pkcs12',
    '-export',
    '-inkey',
    file('client-key.pem'),
    '-in',
    file('client.pem'),
    '-passout',
    'pass:p12-secret',
    '-out',
    p12,
  ]);
  return { pem, p12 };
}

// --client-cert: mutual TLS towards origins that require a client certificate.
describe('proxy: client certificates for origins', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: Server;
  let port: number;
  let listening: Listening | undefined;
  let files: { pem: string; p12: string };
  const proxies = new TestProxies();
  const mitm = (options: Parameters<typeof startTestProxy>[1]): Promise<TestProxy> => proxies.start(pki, options);

  before(async () => {
    pki = await createTestPki();
    files = await makeClientCert(pki);
    // Requires a client certificate issued by the test CA, and says whose it got.
    origin = createServer(
      { cert: pki.origin.cert, key: pki.origin.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`client ${peer.subject?.CN ?? 'none'}`);
      },
    );
    listening = await listenLocal(origin);
    port = listening.port;
  });

  after(async () => {
    await proxies.closeAll();
    await listening?.close();
    await pki?.cleanup();
  });

  it('presents a PEM certificate+key to a matching origin that requires one', async () => {
    // The first glob does not match localhost; the second does.
    const proxy = await mitm({ clientCert: [`*.other.test=${files.pem}`, `local*=${files.pem}`] });
    const res = await curlVia(proxy.url, [`https://localhost:${port}/whoami`], proxy.caPath);
    assert.equal(res.status, 200, res.stderr);
    assert.equal(res.text, 'client mitm test client');
  });

  it('without a matching --client-cert the origin refuses: a 502 naming the TLS failure', async () => {
    const plainProxy = await mitm({});
    // A TLS 1.3 origin refuses only after the handshake, with an alert that races the request and
    // the origin's close: every one of several fresh connections must still report the alert.
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const res = await curlVia(plainProxy.url, [`https://localhost:${port}/whoami`], plainProxy.caPath);
      assert.equal(res.status, 502, res.stderr);
      assert.equal(res.headers['x-mitm-error'], 'upstream_tls', res.text);
      assert.equal(
        res.text,
        `TLS handshake with localhost:${port} failed: it requires a client certificate (give one with --client-cert)\n`,
      );
    }

    const otherGlob = await mitm({ clientCert: [`*.example.com=${files.pem}`] });
    const unmatched = await curlVia(otherGlob.url, [`https://localhost:${port}/whoami`], otherGlob.caPath);
    assert.equal(unmatched.status, 502, unmatched.stderr);
  });

  it('reads a .p12 with --client-cert-passphrase', async () => {
    const proxy = await mitm({ clientCert: [`localhost=${files.p12}`], clientCertPassphrase: 'p12-secret' });
    const res = await curlVia(proxy.url, [`https://localhost:${port}/whoami`], proxy.caPath);
    assert.equal(res.text, 'client mitm test client', res.stderr);
  });

  it('refuses to start with a wrong passphrase, or a PEM without its key', async () => {
    await assert.rejects(
      startTestProxy(pki, { clientCert: [`localhost=${files.p12}`], clientCertPassphrase: 'wrong' }),
      (error: unknown) => isMitmError(error) && error.code === 'config_invalid' && /clientCert localhost=.*passphrase/.test(error.message),
    );
    await assert.rejects(
      startTestProxy(pki, { clientCert: [`localhost=${pki.origin.certPath}`] }),
      (error: unknown) => isMitmError(error) && error.code === 'config_invalid' && /no PEM private key/.test(error.message),
    );
  });
});
