import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, generateKeyPair } from 'node:crypto';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CA_CERT_FILE, CA_KEY_FILE, describeCa, exportCa, importCa, initCa, loadCa } from '../../src/ca/authority.js';
import type { CertificateAuthority } from '../../src/ca/authority.js';
import { createLeafMinter } from '../../src/ca/mint-leaf.js';
import { createRootCertificate } from '../../src/ca/x509.js';
import { isMitmError, type ErrorCode } from '../../src/errors.js';

const execFileAsync = promisify(execFile);
const generateKeyPairAsync = promisify(generateKeyPair);
const DAY_MS = 24 * 60 * 60 * 1000;

let tmp = '';
let caDir = '';
let ca: CertificateAuthority;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mitm-ca-authority-'));
  caDir = join(tmp, 'nested', 'ca');
  const result = await initCa(caDir);
  assert.equal(result.created, true);
  ca = result.ca;
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function openssl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('openssl', args);
  return stdout;
}

/** A rejection check: the error is a MitmError with `code` whose message contains every fragment. */
function mitmError(code: ErrorCode, ...fragments: string[]): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isMitmError(err), `expected a MitmError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const fragment of fragments) assert.ok(err.message.includes(fragment), `${JSON.stringify(err.message)} lacks ${fragment}`);
    return true;
  };
}

/** A fresh folder under the test's temp dir. */
async function freshDir(name: string): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir);
  return dir;
}

/** A folder holding `certPem` as ca.pem and `keyPem` as ca-key.pem. */
async function caFolder(name: string, certPem: string, keyPem: string): Promise<string> {
  const dir = await freshDir(name);
  await writeFile(join(dir, CA_CERT_FILE), certPem);
  await writeFile(join(dir, CA_KEY_FILE), keyPem);
  return dir;
}

/** An RSA root made by our own x509 module with chosen dates, as PEM files' contents. */
async function rootWithDates(notBefore: Date, notAfter: Date): Promise<{ certPem: string; keyPem: string }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const certPem = await createRootCertificate(
    { organization: 'mitm', commonName: 'dated test root', notBefore, notAfter },
    publicKey,
    privateKey,
  );
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

test('initCa creates the folder 0700, the key 0600 (PKCS#8) and a certificate readable as PEM', async () => {
  assert.equal((await stat(caDir)).mode & 0o777, 0o700);
  assert.equal((await stat(join(tmp, 'nested'))).mode & 0o777, 0o700);
  assert.equal((await stat(join(caDir, CA_KEY_FILE))).mode & 0o777, 0o600);
  assert.match(await readFile(join(caDir, CA_KEY_FILE), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(await readFile(join(caDir, CA_CERT_FILE), 'utf8'), ca.certPem);
  assert.deepEqual((await readdir(caDir)).sort(), [CA_CERT_FILE, CA_KEY_FILE].sort());
  assert.equal(ca.dir, caDir);
});

test('the root is an RSA-2048 CA with a distinctive subject, ~10-year validity and a positive 16-byte serial', () => {
  const { cert, key } = ca;
  assert.equal(cert.ca, true);
  assert.equal(key.asymmetricKeyType, 'rsa');
  assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
  assert.ok(cert.checkPrivateKey(key));
  assert.ok(cert.verify(cert.publicKey), 'self-signed');
  assert.equal(cert.issuer, cert.subject);

  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '';
  assert.match(cn, /^mitm root CA for \S+ \(\d{4}-\d\d-\d\d \d\d:\d\dZ\)$/);
  assert.ok(cn.length <= 64, 'RFC 5280 ub-common-name');
  const plainHost = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 27);
  assert.ok(cn.includes(plainHost), `${cn} names ${plainHost}`);
  assert.match(cert.subject, /^O=mitm$/m);

  const now = Date.now();
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  assert.ok(Math.abs(notBefore - (now - DAY_MS)) < 10 * 60_000, `notBefore ${cert.validFrom} is about a day ago`);
  const years = (notAfter - notBefore) / (365.25 * DAY_MS);
  assert.ok(years > 9.9 && years < 10.1, `validity ${years} years`);

  assert.match(cert.serialNumber, /^[0-9A-F]{32}$/);
  const firstByte = parseInt(cert.serialNumber.slice(0, 2), 16);
  assert.ok(firstByte >= 0x01 && firstByte <= 0x7f, `first serial byte ${firstByte}`);
});

test('openssl sees critical basicConstraints CA:TRUE, critical keyCertSign+cRLSign and an SKI', async () => {
  const text = await openssl('x509', '-noout', '-text', '-in', join(caDir, CA_CERT_FILE));
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
  assert.match(text, /X509v3 Subject Key Identifier: \n\s+([0-9A-F]{2}:){19}[0-9A-F]{2}\n/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  const verify = await openssl('verify', '-CAfile', join(caDir, CA_CERT_FILE), join(caDir, CA_CERT_FILE));
  assert.match(verify, /: OK\n$/);
});

test('initCa is idempotent: a second call loads the same CA and rewrites nothing', async () => {
  const keyBefore = await stat(join(caDir, CA_KEY_FILE));
  const again = await initCa(caDir);
  assert.equal(again.created, false);
  assert.equal(describeCa(again.ca).sha256, describeCa(ca).sha256);
  assert.equal((await stat(join(caDir, CA_KEY_FILE))).mtimeMs, keyBefore.mtimeMs);
  const loaded = await loadCa(caDir);
  assert.equal(loaded.certPem, ca.certPem);
});

test('initCa calls racing on an empty folder all end with the one CA that was written', async () => {
  // Each call finds the folder empty and generates a key before any writes: all but one lose the
  // race to create the key file and must load the winner's CA instead of failing.
  const dir = join(tmp, 'raced');
  const results = await Promise.all([initCa(dir), initCa(dir), initCa(dir)]);
  assert.deepEqual(results.map((result) => result.created).sort(), [false, false, true]);
  const written = await loadCa(dir);
  for (const result of results) assert.equal(result.ca.certPem, written.certPem);
  assert.deepEqual((await readdir(dir)).sort(), [CA_CERT_FILE, CA_KEY_FILE].sort());
});

test('loadCa of an empty folder is ca_missing, naming the full path and the init command', async () => {
  const dir = await freshDir('empty');
  await assert.rejects(loadCa(dir), mitmError('ca_missing', join(dir, CA_CERT_FILE), `mitm ca init --ca ${dir}`));
  assert.deepEqual(await readdir(dir), []);
});

test('initCa with only one of the two files is ca_missing naming the other, and writes nothing', async () => {
  const certOnly = await freshDir('cert-only');
  await copyFile(join(caDir, CA_CERT_FILE), join(certOnly, CA_CERT_FILE));
  await assert.rejects(initCa(certOnly), mitmError('ca_missing', join(certOnly, CA_KEY_FILE)));
  assert.deepEqual(await readdir(certOnly), [CA_CERT_FILE]);

  const keyOnly = await freshDir('key-only');
  await copyFile(join(caDir, CA_KEY_FILE), join(keyOnly, CA_KEY_FILE));
  await assert.rejects(initCa(keyOnly), mitmError('ca_missing', join(keyOnly, CA_CERT_FILE)));
  assert.deepEqual(await readdir(keyOnly), [CA_KEY_FILE]);
  await assert.rejects(loadCa(keyOnly), mitmError('ca_missing', join(keyOnly, CA_CERT_FILE)));
});

test('a corrupt ca.pem is ca_invalid naming the file', async () => {
  const keyPem = await readFile(join(caDir, CA_KEY_FILE), 'utf8');
  const dir = await caFolder('corrupt', '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n', keyPem);
  await assert.rejects(loadCa(dir), mitmError('ca_invalid', join(dir, CA_CERT_FILE), 'not a PEM certificate'));
  await assert.rejects(initCa(dir), mitmError('ca_invalid', join(dir, CA_CERT_FILE)));
  assert.equal(await readFile(join(dir, CA_KEY_FILE), 'utf8'), keyPem, 'nothing overwritten');
});

test('a corrupt ca-key.pem is ca_invalid naming the file', async () => {
  const dir = await caFolder('corrupt-key', ca.certPem, 'garbage\n');
  await assert.rejects(loadCa(dir), mitmError('ca_invalid', join(dir, CA_KEY_FILE)));
});

test('a leaf certificate as ca.pem is ca_invalid: not a CA', async () => {
  const leaf = await (await createLeafMinter(ca)).mint('leaf.test');
  const dir = await caFolder('leaf-as-ca', leaf.certPem, leaf.keyPem);
  await assert.rejects(loadCa(dir), mitmError('ca_invalid', join(dir, CA_CERT_FILE), 'not a CA'));
});

test('a key that does not match the certificate is ca_invalid naming both files', async () => {
  const other = await rootWithDates(new Date(Date.now() - DAY_MS), new Date(Date.now() + 365 * DAY_MS));
  const dir = await caFolder('mismatch', ca.certPem, other.keyPem);
  await assert.rejects(loadCa(dir), mitmError('ca_invalid', join(dir, CA_KEY_FILE), 'does not match', join(dir, CA_CERT_FILE)));
});

test('an expired CA is ca_invalid saying so', async () => {
  const { certPem, keyPem } = await rootWithDates(new Date(Date.now() - 400 * DAY_MS), new Date(Date.now() - DAY_MS));
  const dir = await caFolder('expired', certPem, keyPem);
  await assert.rejects(loadCa(dir), mitmError('ca_invalid', join(dir, CA_CERT_FILE), 'expired'));
});

test('a CA whose keyUsage lacks keyCertSign, or whose key is not RSA, is ca_invalid', async () => {
  const noSign = await freshDir('no-keycertsign');
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=no keyCertSign',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,digitalSignature',
    '-keyout',
    join(noSign, CA_KEY_FILE),
    '-out',
    join(noSign, CA_CERT_FILE),
  );
  await assert.rejects(loadCa(noSign), mitmError('ca_invalid', join(noSign, CA_CERT_FILE), 'not a CA', 'keyCertSign'));

  const ec = await freshDir('ec');
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=ec root',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-keyout',
    join(ec, CA_KEY_FILE),
    '-out',
    join(ec, CA_CERT_FILE),
  );
  await assert.rejects(loadCa(ec), mitmError('ca_invalid', join(ec, CA_KEY_FILE), 'only RSA'));
});

test('a ca.pem that cannot be read (a directory) is ca_unreadable naming the file and the reason', async () => {
  const dir = await freshDir('unreadable');
  await mkdir(join(dir, CA_CERT_FILE));
  await copyFile(join(caDir, CA_KEY_FILE), join(dir, CA_KEY_FILE));
  await assert.rejects(loadCa(dir), mitmError('ca_unreadable', join(dir, CA_CERT_FILE), 'EISDIR'));
  await assert.rejects(initCa(dir), mitmError('ca_unreadable', join(dir, CA_CERT_FILE)));
  assert.deepEqual((await readdir(dir)).sort(), [CA_CERT_FILE, CA_KEY_FILE].sort());
});

test('initCa where the folder cannot be created is config_invalid naming it', async () => {
  const file = join(tmp, 'a-file');
  await writeFile(file, 'not a folder\n');
  const dir = join(file, 'ca');
  await assert.rejects(initCa(dir), mitmError('config_invalid', dir, 'ENOTDIR'));
  assert.equal(await readFile(file, 'utf8'), 'not a folder\n');
});

test('importCa copies our own layout into a new folder, key re-written 0600 in a 0700 folder', async () => {
  const to = join(tmp, 'import-own', 'target');
  const imported = await importCa(caDir, to);
  assert.equal(describeCa(imported).sha256, describeCa(ca).sha256);
  assert.equal(imported.dir, to);
  assert.equal((await stat(to)).mode & 0o777, 0o700);
  assert.equal((await stat(join(to, CA_KEY_FILE))).mode & 0o777, 0o600);
});

test("importCa reads http-mitm-proxy's sslCaDir layout (PKCS#1 key) and writes ours (PKCS#8)", async () => {
  const from = await freshDir('http-mitm-proxy');
  await mkdir(join(from, 'certs'));
  await mkdir(join(from, 'keys'));
  const opensslKey = join(tmp, 'http-mitm-proxy-openssl-key.pem');
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '30',
    '-subj',
    '/CN=NodeMITMProxyCA/O=http-mitm-proxy',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    opensslKey,
    '-out',
    join(from, 'certs', 'ca.pem'),
  );
  const pkcs1 = createPrivateKey(await readFile(opensslKey, 'utf8'))
    .export({ type: 'pkcs1', format: 'pem' })
    .toString();
  assert.match(pkcs1, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  await writeFile(join(from, 'keys', 'ca.private.key'), pkcs1);

  const to = join(tmp, 'import-hmp-target');
  const imported = await importCa(from, to);
  const original = new X509Certificate(await readFile(join(from, 'certs', 'ca.pem')));
  assert.equal(describeCa(imported).sha256, original.fingerprint256);
  assert.match(await readFile(join(to, CA_KEY_FILE), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal((await stat(join(to, CA_KEY_FILE))).mode & 0o777, 0o600);

  // Leaves from an openssl-made root must chain: issuer bytes and AKI come from its ca.pem.
  const leaf = await (await createLeafMinter(imported)).mint('imported.test');
  const leafPath = join(tmp, 'imported-leaf.pem');
  await writeFile(leafPath, leaf.certPem);
  assert.match(await openssl('verify', '-CAfile', join(to, CA_CERT_FILE), leafPath), /: OK\n$/);
});

test('importCa refuses a target that already holds a CA file, changing nothing', async () => {
  const to = await freshDir('import-occupied');
  await writeFile(join(to, CA_KEY_FILE), 'precious\n');
  await assert.rejects(importCa(caDir, to), mitmError('ca_invalid', to, 'already holds a CA'));
  assert.deepEqual(await readdir(to), [CA_KEY_FILE]);
  assert.equal(await readFile(join(to, CA_KEY_FILE), 'utf8'), 'precious\n');
});

test('importCa from a folder with no CA is ca_missing; an invalid source is ca_invalid and writes nothing', async () => {
  const empty = await freshDir('import-empty');
  await assert.rejects(importCa(empty, join(tmp, 'import-empty-target')), mitmError('ca_missing', empty));

  const { certPem, keyPem } = await rootWithDates(new Date(Date.now() - 400 * DAY_MS), new Date(Date.now() - DAY_MS));
  const expired = await caFolder('import-expired', certPem, keyPem);
  const to = join(tmp, 'import-expired-target');
  await assert.rejects(importCa(expired, to), mitmError('ca_invalid', join(expired, CA_CERT_FILE), 'expired'));
  await assert.rejects(stat(to), { code: 'ENOENT' });
});

test('describeCa gives a one-line subject, the validity and the SHA-256 fingerprint openssl computes', async () => {
  const description = describeCa(ca);
  assert.ok(!description.subject.includes('\n'));
  assert.match(description.subject, /^O=mitm, CN=mitm root CA for /);
  assert.equal(description.notBefore.getTime(), Date.parse(ca.cert.validFrom));
  assert.equal(description.notAfter.getTime(), Date.parse(ca.cert.validTo));
  assert.match(description.sha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const fingerprint = await openssl('x509', '-noout', '-fingerprint', '-sha256', '-in', join(caDir, CA_CERT_FILE));
  assert.equal(fingerprint.trim().split('=')[1], description.sha256);
});

test('exportCa gives PEM, DER and a certificate-only PKCS#12 that openssl 3 reads with an empty password', async () => {
  assert.equal(exportCa(ca, 'pem').toString('utf8'), ca.certPem);

  const derPath = join(tmp, 'export.der');
  await writeFile(derPath, exportCa(ca, 'der'));
  assert.deepEqual(exportCa(ca, 'der'), Buffer.from(ca.cert.raw));
  assert.match(await openssl('x509', '-inform', 'DER', '-in', derPath, '-noout', '-subject'), /mitm root CA/);

  const p12Path = join(tmp, 'export.p12');
  await writeFile(p12Path, exportCa(ca, 'p12'));
  // No -legacy: OpenSSL 3 must read it with its default provider.
  const { stdout, stderr } = await execFileAsync('openssl', ['pkcs12', '-info', '-nokeys', '-passin', 'pass:', '-in', p12Path]);
  assert.match(stderr, /Certificate bag/);
  assert.doesNotMatch(stdout + stderr, /Shrouded Keybag|PRIVATE KEY/);
  const certs = stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
  assert.equal(certs.length, 1);
  assert.equal(new X509Certificate(certs[0] ?? '').fingerprint256, describeCa(ca).sha256);
});
