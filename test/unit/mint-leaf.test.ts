import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey, generateKeyPair } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CA_CERT_FILE, CA_KEY_FILE, initCa, loadCa, type CertificateAuthority } from '../../src/ca/authority.js';
import { createLeafMinter, type LeafCertificate, type LeafMinter } from '../../src/ca/mint-leaf.js';
import { createRootCertificate } from '../../src/ca/x509.js';
import { isMitmError } from '../../src/errors.js';

const execFileAsync = promisify(execFile);
const generateKeyPairAsync = promisify(generateKeyPair);
const DAY_MS = 24 * 60 * 60 * 1000;

let tmp = '';
let ca: CertificateAuthority;
let caPath = '';
let minter: LeafMinter;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mitm-mint-leaf-'));
  ca = (await initCa(join(tmp, 'ca'))).ca;
  caPath = join(ca.dir, CA_CERT_FILE);
  minter = await createLeafMinter(ca);
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function openssl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('openssl', args);
  return stdout;
}

let leafFiles = 0;
/** Writes a leaf to a temp file for the openssl CLI. */
async function leafFile(leaf: LeafCertificate): Promise<string> {
  const path = join(tmp, `leaf-${leafFiles++}.pem`);
  await writeFile(path, leaf.certPem);
  return path;
}

/** openssl's printed value of one extension of a certificate file, e.g. keyid hex for AKI. */
async function extension(path: string, name: string): Promise<string> {
  return openssl('x509', '-noout', '-in', path, '-ext', name);
}

test('a DNS leaf has CN and SAN for the host, server EKU, CA:false, and chains to the CA', async () => {
  const before = Date.now();
  const leaf = await minter.mint('example.com');
  const cert = new X509Certificate(leaf.certPem);

  assert.equal(cert.ca, false);
  assert.equal(cert.subject, 'CN=example.com');
  assert.equal(cert.subjectAltName, 'DNS:example.com');
  assert.equal(cert.checkHost('example.com'), 'example.com');
  assert.equal(cert.issuer, ca.cert.subject);
  assert.ok(cert.checkIssued(ca.cert));
  assert.ok(cert.verify(ca.cert.publicKey));
  assert.ok(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)));
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);

  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  assert.ok(Math.abs(notBefore - (before - DAY_MS)) < 60_000, `notBefore ${cert.validFrom} is a day back`);
  assert.ok(notAfter - notBefore <= 197 * DAY_MS, 'at most 197 days in total (Chromium caps at 200)');
  assert.ok(notAfter - notBefore > 180 * DAY_MS);
  assert.equal(Math.floor(leaf.notAfter.getTime() / 1000), notAfter / 1000);

  const path = await leafFile(leaf);
  assert.match(await openssl('verify', '-CAfile', caPath, '-purpose', 'sslserver', '-verify_hostname', 'example.com', path), /: OK\n$/);
  const text = await openssl('x509', '-noout', '-text', '-in', path);
  assert.match(text, /X509v3 Basic Constraints: \n\s+CA:FALSE\n/);
  // An ECDSA P-256 key (the default), signed by the RSA root: it signs handshakes, never encrypts.
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
  assert.match(text, /X509v3 Subject Alternative Name: \n\s+DNS:example.com\n/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /Public-Key: \(256 bit\)\n[\s\S]*ASN1 OID: prime256v1/);
});

test('--leaf-key rsa mints RSA-2048 leaves with key encipherment, chaining to the same CA', async () => {
  const rsaMinter = await createLeafMinter(ca, 'rsa');
  const leaf = await rsaMinter.mint('rsa.example');
  const cert = new X509Certificate(leaf.certPem);
  assert.ok(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)));
  assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
  const path = await leafFile(leaf);
  assert.match(await openssl('verify', '-CAfile', caPath, '-purpose', 'sslserver', '-verify_hostname', 'rsa.example', path), /: OK\n$/);
  const text = await openssl('x509', '-noout', '-text', '-in', path);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
});

test("the leaf's AKI is the CA's SKI and its SKI is its own key's", async () => {
  const path = await leafFile(await minter.mint('aki.test'));
  const hex = (out: string): string => /([0-9A-F]{2}(?::[0-9A-F]{2})+)/.exec(out)?.[1] ?? 'none';
  const caSki = hex(await extension(caPath, 'subjectKeyIdentifier'));
  assert.equal(hex(await extension(path, 'authorityKeyIdentifier')), caSki);
  // RFC 5280 §4.2.1.2 method 1: SHA-1 of the key's bits, for a P-256 key the last 65 bytes of its SPKI.
  const leafKey = new X509Certificate(await readFile(path)).publicKey.export({ type: 'spki', format: 'der' });
  const expected = createHash('sha1').update(leafKey.subarray(-65)).digest('hex').toUpperCase().match(/../g)?.join(':');
  assert.equal(hex(await extension(path, 'subjectKeyIdentifier')), expected);
  assert.notEqual(expected, caSki);
});

test('IPv4 and IPv6 hosts get IP SANs that clients match', async () => {
  const v4 = await minter.mint('127.0.0.1');
  const v4Cert = new X509Certificate(v4.certPem);
  assert.equal(v4Cert.subjectAltName, 'IP Address:127.0.0.1');
  assert.equal(v4Cert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.match(await openssl('verify', '-CAfile', caPath, '-verify_ip', '127.0.0.1', await leafFile(v4)), /: OK\n$/);

  for (const host of ['::1', '[::1]']) {
    const v6 = await minter.mint(host);
    const v6Cert = new X509Certificate(v6.certPem);
    assert.equal(v6Cert.subjectAltName, 'IP Address:0:0:0:0:0:0:0:1');
    assert.equal(v6Cert.subject, 'CN=::1');
    assert.equal(v6Cert.checkIP('::1'), '::1');
    assert.match(await openssl('verify', '-CAfile', caPath, '-verify_ip', '::1', await leafFile(v6)), /: OK\n$/);
  }

  const mapped = new X509Certificate((await minter.mint('::ffff:192.0.2.1')).certPem);
  assert.equal(mapped.subjectAltName, 'IP Address:0:0:0:0:0:FFFF:C000:201');
  const expanded = new X509Certificate((await minter.mint('2001:db8::8:800:200c:417a')).certPem);
  assert.equal(expanded.subjectAltName, 'IP Address:2001:DB8:0:0:8:800:200C:417A');
});

test('host names are normalised before minting', async () => {
  const cert = new X509Certificate((await minter.mint('Example.ORG.')).certPem);
  assert.equal(cert.subjectAltName, 'DNS:example.org');
  assert.equal(cert.subject, 'CN=example.org');
});

test('unacceptable hosts are rejected with host_invalid, wildcards included', async () => {
  const bad = ['a/b', 'x\u0000y', `${'a'.repeat(63)}.`.repeat(5), 'a'.repeat(300), '', '*.example.com', 'a b', 'fe80::1%eth0'];
  for (const host of bad) {
    await assert.rejects(minter.mint(host), (err: unknown) => isMitmError(err) && err.code === 'host_invalid', JSON.stringify(host));
  }
});

test('a name longer than a CN may be goes in a critical SAN under an empty subject', async () => {
  const host = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.test`;
  const leaf = await minter.mint(host);
  const cert = new X509Certificate(leaf.certPem);
  assert.equal(cert.subject, undefined, 'no subject attributes');
  assert.equal(cert.subjectAltName, `DNS:${host}`);
  const path = await leafFile(leaf);
  assert.match(await extension(path, 'subjectAltName'), /X509v3 Subject Alternative Name: critical/);
  assert.match(await openssl('verify', '-CAfile', caPath, '-verify_hostname', host, path), /: OK\n$/);
});

test('all leaves of a minter share one key; serials are positive, 16 bytes and distinct', async () => {
  const leaves = await Promise.all(Array.from({ length: 30 }, (_, i) => minter.mint(`serial-${i}.test`)));
  const certs = leaves.map((leaf) => new X509Certificate(leaf.certPem));
  assert.equal(new Set(leaves.map((leaf) => leaf.keyPem)).size, 1);
  assert.equal(new Set(certs.map((cert) => cert.publicKey.export({ type: 'spki', format: 'pem' }).toString())).size, 1);
  const serials = certs.map((cert) => cert.serialNumber);
  assert.equal(new Set(serials).size, serials.length);
  for (const serial of serials) {
    assert.match(serial, /^[0-9A-F]{32}$/);
    const firstByte = parseInt(serial.slice(0, 2), 16);
    assert.ok(firstByte >= 0x01 && firstByte <= 0x7f, serial);
  }
  const other = await createLeafMinter(ca);
  assert.notEqual((await other.mint('serial-0.test')).keyPem, leaves[0]?.keyPem, 'each minter has its own key');
});

test('a leaf never outlives its CA', async () => {
  const dir = join(tmp, 'short-ca');
  await mkdir(dir);
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const notAfter = new Date(Date.now() + 30 * DAY_MS);
  const certPem = await createRootCertificate(
    { organization: 'mitm', commonName: 'short-lived root', notBefore: new Date(Date.now() - DAY_MS), notAfter },
    publicKey,
    privateKey,
  );
  await writeFile(join(dir, CA_CERT_FILE), certPem);
  await writeFile(join(dir, CA_KEY_FILE), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const shortCa = await loadCa(dir);
  const leaf = await (await createLeafMinter(shortCa)).mint('short.test');
  assert.equal(Date.parse(new X509Certificate(leaf.certPem).validTo), Date.parse(shortCa.cert.validTo));
  assert.equal(Math.floor(leaf.notAfter.getTime() / 1000), Date.parse(shortCa.cert.validTo) / 1000);
});

test('extra names (copied from an origin certificate) join the SAN after the host, validated', async () => {
  const leaf = new X509Certificate((await minter.mint('127.0.0.1', ['Origin.Example', '*.origin.example', '127.0.0.1', '::1'])).certPem);
  assert.equal(leaf.subjectAltName, 'IP Address:127.0.0.1, DNS:origin.example, DNS:*.origin.example, IP Address:0:0:0:0:0:0:0:1');
  assert.equal(leaf.subject, 'CN=127.0.0.1');
  assert.equal(leaf.checkHost('www.origin.example'), '*.origin.example');
  const file = await leafFile(await minter.mint('127.0.0.1', ['origin.example']));
  assert.match(await openssl('verify', '-CAfile', caPath, '-verify_hostname', 'origin.example', file), /: OK\n$/);
  for (const bad of ['a b', '*', 'x.*.example', 'a/b']) {
    await assert.rejects(minter.mint('ok.example', [bad]), (err: unknown) => isMitmError(err) && err.code === 'host_invalid', bad);
  }
});
