// The root CA: create it once per machine (or import one), load it at every start, and hand it out
// in the formats OS trust stores import. File handling and validation live in ca-files.ts.
import { generateKeyPair, type KeyObject, type X509Certificate } from 'node:crypto';
import { watch } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { isMitmError, MitmError } from '../errors.js';
import { createdElsewhere, exists, readCaFile, validateCa, writeCaFiles } from './ca-files.js';
import { certificateToPkcs12, createRootCertificate, keyAndCertificateToPkcs12 } from './x509.js';

/** A loaded, validated root CA. */
export interface CertificateAuthority {
  /** The root certificate, PEM. */
  readonly certPem: string;
  /** The root certificate, parsed. */
  readonly cert: X509Certificate;
  /** The CA's RSA private key. */
  readonly key: KeyObject;
  /** The folder it was loaded from (absolute). */
  readonly dir: string;
}

/** File name of the root certificate inside a CA folder. */
export const CA_CERT_FILE = 'ca.pem';
/** File name of the root's PKCS#8 private key inside a CA folder. */
export const CA_KEY_FILE = 'ca-key.pem';

// http-mitm-proxy's sslCaDir layout, accepted by importCa so its users keep their installed trust.
const HTTP_MITM_PROXY_CERT = join('certs', 'ca.pem');
const HTTP_MITM_PROXY_KEY = join('keys', 'ca.private.key');
const EXPECTED_LAYOUTS = `${CA_CERT_FILE} and ${CA_KEY_FILE}, or http-mitm-proxy's ${HTTP_MITM_PROXY_CERT} and ${HTTP_MITM_PROXY_KEY}`;

const DAY_MS = 24 * 60 * 60 * 1000;
// How long initCa waits for a CA another process is writing (two small files, each synced).
const CREATION_WAIT_MS = 10_000;
const CA_VALIDITY_DAYS = 3650;
// RFC 5280's ub-common-name is 64; our CN adds 37 characters around the host name.
const MAX_HOSTNAME_IN_CN = 27;

const generateKeyPairAsync = promisify(generateKeyPair);

/** Loads and validates DIR/ca.pem and DIR/ca-key.pem; throws `ca_missing`, `ca_unreadable` or `ca_invalid`. */
export async function loadCa(dir: string): Promise<CertificateAuthority> {
  const absDir = resolve(dir);
  const { certPath, keyPath } = caPaths(absDir);
  const hint = `create a CA with \`mitm ca init --ca ${absDir}\``;
  const certText = await readCaFile(certPath, hint);
  const keyText = await readCaFile(keyPath, hint);
  return { ...validateCa(certText, keyText, certPath, keyPath), dir: absDir };
}

/** Loads the CA in DIR, or creates one there if DIR holds neither file; never touches a partial CA. */
export async function initCa(dir: string): Promise<{ ca: CertificateAuthority; created: boolean }> {
  const absDir = resolve(dir);
  const { certPath, keyPath } = caPaths(absDir);
  const [hasCert, hasKey] = await Promise.all([exists(certPath), exists(keyPath)]);
  if (hasCert && hasKey) return { ca: await loadCa(absDir), created: false };
  if (hasCert || hasKey) {
    const [present, missing] = hasCert ? [certPath, keyPath] : [keyPath, certPath];
    throw new MitmError(
      'ca_missing',
      `${missing} does not exist but ${present} does; restore the missing file or use another --ca folder ` +
        '(mitm never overwrites part of a CA)',
    );
  }

  const { certPem, keyPem } = await generateCa();
  try {
    await writeCaFiles(absDir, { certPath, certPem, keyPath, keyPem });
  } catch (error) {
    // Another process created the CA since we looked (test files starting proxies in parallel on a
    // fresh folder, two `mitm start`s): everyone uses the one that won, once it is complete.
    if (!createdElsewhere(error)) throw error;
    return { ca: await loadWhenComplete(absDir), created: false };
  }
  return { ca: { ...validateCa(certPem, keyPem, certPath, keyPath), dir: absDir }, created: true };
}

/**
 * Loads the CA another process is writing into `dir` (key first, certificate last) as soon as it
 * loads, trying again on every change in the folder; after CREATION_WAIT_MS, fails with the last reason.
 */
function loadWhenComplete(dir: string): Promise<CertificateAuthority> {
  return new Promise((resolve, reject) => {
    let lastReason: unknown;
    let loading = false;
    let changedMeanwhile = false;
    const watcher = watch(dir);
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      watcher.close();
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(lastReason)), CREATION_WAIT_MS);
    const attempt = (): void => {
      if (loading) {
        changedMeanwhile = true;
        return;
      }
      loading = true;
      loadCa(dir).then(
        (ca) => finish(() => resolve(ca)),
        (error: unknown) => {
          loading = false;
          // Missing or half written (a certificate that does not parse yet): wait for the next change.
          if (!isMitmError(error) || (error.code !== 'ca_missing' && error.code !== 'ca_invalid')) {
            finish(() => reject(error));
            return;
          }
          lastReason = error;
          if (changedMeanwhile) {
            changedMeanwhile = false;
            attempt();
          }
        },
      );
    };
    watcher.on('change', attempt);
    watcher.on('error', (error) => finish(() => reject(error)));
    // Once the watch is set, so a write that ends before it is not missed.
    attempt();
  });
}

/** Copies a CA from our layout or http-mitm-proxy's sslCaDir into an empty `toDir`, after validating it. */
export async function importCa(fromDir: string, toDir: string): Promise<CertificateAuthority> {
  const source = await findImportSource(resolve(fromDir));
  const hint = `the folder must hold ${EXPECTED_LAYOUTS}`;
  const certText = await readCaFile(source.certPath, hint);
  const keyText = await readCaFile(source.keyPath, hint);
  const validated = validateCa(certText, keyText, source.certPath, source.keyPath);

  const absTo = resolve(toDir);
  const target = caPaths(absTo);
  if ((await exists(target.certPath)) || (await exists(target.keyPath))) {
    // The code docs/errors.md promises for this case, so scripts need only one for "bad CA folder".
    throw new MitmError('ca_invalid', `${absTo} already holds a CA; import into an empty folder (mitm never overwrites a CA)`);
  }
  // Re-encode as PKCS#8: http-mitm-proxy writes forge's PKCS#1 "RSA PRIVATE KEY".
  const keyPem = validated.key.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeCaFiles(absTo, { ...target, certPem: validated.certPem, keyPem });
  return loadCa(absTo);
}

/** The facts a user compares against their trust store: subject, validity and SHA-256 fingerprint. */
export function describeCa(ca: CertificateAuthority): {
  subject: string;
  notBefore: Date;
  notAfter: Date;
  sha256: string;
} {
  return {
    subject: ca.cert.subject.split('\n').join(', '),
    notBefore: new Date(ca.cert.validFrom),
    notAfter: new Date(ca.cert.validTo),
    sha256: ca.cert.fingerprint256,
  };
}

/** The root certificate (never the key) as PEM text, DER bytes, or a PKCS#12 file with an empty password. */
/** The root certificate and its private key as PKCS#12 encrypted with `passphrase` (8+ characters). */
export function exportCaWithKey(ca: CertificateAuthority, passphrase: string): Buffer {
  if (passphrase.length < 8) throw new MitmError('config_invalid', 'the passphrase of an exported CA key must have at least 8 characters');
  const commonName = /^CN=(.*)$/m.exec(ca.cert.subject)?.[1];
  const keyPem = ca.key.export({ type: 'pkcs1', format: 'pem' }).toString();
  return keyAndCertificateToPkcs12(ca.certPem, keyPem, passphrase, commonName ?? 'mitm root CA');
}

export function exportCa(ca: CertificateAuthority, format: 'pem' | 'der' | 'p12'): Buffer {
  switch (format) {
    case 'pem':
      return Buffer.from(ca.certPem, 'utf8');
    case 'der':
      return Buffer.from(ca.cert.raw);
    case 'p12': {
      const commonName = /^CN=(.*)$/m.exec(ca.cert.subject)?.[1];
      return certificateToPkcs12(ca.certPem, commonName ?? 'mitm root CA');
    }
  }
}

function caPaths(dir: string): { certPath: string; keyPath: string } {
  return { certPath: join(dir, CA_CERT_FILE), keyPath: join(dir, CA_KEY_FILE) };
}

async function findImportSource(fromDir: string): Promise<{ certPath: string; keyPath: string }> {
  const layouts = [caPaths(fromDir), { certPath: join(fromDir, HTTP_MITM_PROXY_CERT), keyPath: join(fromDir, HTTP_MITM_PROXY_KEY) }];
  for (const layout of layouts) {
    if ((await exists(layout.certPath)) || (await exists(layout.keyPath))) return layout;
  }
  throw new MitmError('ca_missing', `${fromDir} holds no CA: expected ${EXPECTED_LAYOUTS}`);
}

async function generateCa(): Promise<{ certPem: string; keyPem: string }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const now = Date.now();
  const certPem = await createRootCertificate(
    {
      organization: 'mitm',
      commonName: rootCommonName(new Date(now)),
      // Backdated so a client whose clock runs a little slow still accepts the root.
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    },
    publicKey,
    privateKey,
  );
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

// Names the machine and the moment, so a user looking at a trust store can tell which of several
// installed mitm roots is which (and spot a stale one). No commas: DN printers escape them.
function rootCommonName(created: Date): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, MAX_HOSTNAME_IN_CN) || 'unknown-host';
  const stamp = `${created.toISOString().slice(0, 10)} ${created.toISOString().slice(11, 16)}Z`;
  return `mitm root CA for ${host} (${stamp})`;
}
