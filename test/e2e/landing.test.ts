import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { send } from '../helpers/client.js';
import { curl, curlVia } from '../helpers/curl.js';
import { e2eFixture } from '../helpers/fixture.js';
import { runOk } from '../helpers/run.js';

/** The SHA-256 fingerprint openssl reports for the certificate in `bytes`, as `AB:CD:…`. */
async function opensslFingerprint(bytes: Buffer, inform: 'pem' | 'der'): Promise<string> {
  const result = await runOk('openssl', ['x509', '-inform', inform, '-noout', '-fingerprint', '-sha256'], { stdin: bytes });
  const match = /Fingerprint=([0-9A-F:]+)/i.exec(result.stdout.toString('utf8'));
  assert.ok(match, result.stdout.toString('utf8'));
  return (match[1] ?? '').toUpperCase();
}

// The CA download page: on the proxy's own address, and on http(s)://mitm.it through the proxy.
describe('landing page', { timeout: 60_000 }, () => {
  const fx = e2eFixture({ proxies: { mitm: {} } });
  let fingerprint: string;

  before(async () => {
    fingerprint = new X509Certificate(await readFile(fx.mitm.caPath, 'utf8')).fingerprint256;
  });

  it('a plain GET of the proxy address shows the page with the CA fingerprint', async () => {
    const res = await curl([`${fx.mitm.url}/`]);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(res.headers['content-security-policy'] ?? '', /default-src 'none'/);
    assert.match(res.text, /^<!doctype html>/);
    assert.ok(res.text.includes(fingerprint), 'the page shows the SHA-256 fingerprint');
    // The command-line section names the address this client used.
    assert.ok(res.text.includes(`HTTPS_PROXY=${fx.mitm.url}`));
    const flow = await fx.mitm.flows.waitFor((f) => f.url === `${fx.mitm.url}/`);
    assert.equal(flow.status, 200);
    assert.equal(flow.error, undefined);
  });

  it('serves the CA as PEM, DER and PKCS#12, each matching the fingerprint', async () => {
    const pem = await curl([`${fx.mitm.url}/cert/pem`]);
    assert.equal(pem.status, 200);
    assert.equal(pem.headers['content-type'], 'application/x-pem-file');
    assert.equal(pem.headers['content-disposition'], 'attachment; filename="mitm-ca.pem"');
    assert.equal(await opensslFingerprint(pem.body, 'pem'), fingerprint);

    const der = await curl([`${fx.mitm.url}/cert/der`]);
    assert.equal(der.status, 200);
    assert.equal(der.headers['content-type'], 'application/x-x509-ca-cert');
    assert.match(der.headers['content-disposition'] ?? '', /filename="mitm-ca\.cer"/);
    assert.equal(await opensslFingerprint(der.body, 'der'), fingerprint);

    const p12 = await curl([`${fx.mitm.url}/cert/p12`]);
    assert.equal(p12.status, 200);
    assert.equal(p12.headers['content-type'], 'application/x-pkcs12');
    const certs = await runOk('openssl', ['pkcs12', '-nokeys', '-passin', 'pass:'], { stdin: p12.body });
    assert.equal(await opensslFingerprint(certs.stdout, 'pem'), fingerprint);
    assert.doesNotMatch(certs.stdout.toString('utf8'), /PRIVATE KEY/);
  });

  it('HEAD gives the headers only; other relative requests still get 400 not_a_proxy_request', async () => {
    const head = await send({ host: '127.0.0.1', port: fx.mitm.port, path: '/cert/der', method: 'HEAD', agent: false });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.ok(Number(head.headers['content-length']) > 0);

    const other = await curl([`${fx.mitm.url}/favicon.ico`]);
    assert.equal(other.status, 400);
    assert.equal(other.headers['x-mitm-error'], 'not_a_proxy_request');
    const post = await curl(['-X', 'POST', '-d', 'x', `${fx.mitm.url}/`]);
    assert.equal(post.status, 400);
    assert.equal(post.headers['x-mitm-error'], 'not_a_proxy_request');
  });

  it('http://mitm.it through the proxy is answered by the proxy itself', async () => {
    const res = await curlVia(fx.mitm.url, ['http://mitm.it/']);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.status, 200);
    assert.ok(res.text.includes(fingerprint));
    const flow = await fx.mitm.flows.waitFor((f) => f.url === 'http://mitm.it/');
    assert.equal(flow.status, 200);

    // Never forwarded: other paths and methods are answered here too, not sent to a real host.
    const missing = await curlVia(fx.mitm.url, ['http://mitm.it/nothing-here']);
    assert.equal(missing.status, 404);
    assert.match(missing.text, /this proxy serves \//);
    const post = await curlVia(fx.mitm.url, ['-X', 'POST', '-d', 'x', 'http://mitm.it/']);
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('https://mitm.it through the proxy, trusted through the mitm CA', async () => {
    const res = await curlVia(fx.mitm.url, ['https://mitm.it/cert/pem'], fx.mitm.caPath);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.connectStatus, 200);
    assert.equal(res.status, 200);
    assert.equal(await opensslFingerprint(res.body, 'pem'), fingerprint);
    const page = await curlVia(fx.mitm.url, ['https://mitm.it/'], fx.mitm.caPath);
    assert.ok(page.text.includes(fingerprint));
    const flow = await fx.mitm.flows.waitFor((f) => f.url === 'https://mitm.it/cert/pem');
    assert.equal(flow.contentType, 'application/x-pem-file');
  });
});
