import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOk } from './run.js';

/** A certificate and its private key, as files and as PEM text. */
export interface CertPair {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

/** A throwaway PKI for origins, made with the `openssl` CLI so it shares no code with src/ca. */
export interface TestPki {
  readonly dir: string;
  /** The test root CA; proxies under test trust it through `upstreamCa`. */
  readonly ca: CertPair;
  /** For `localhost` and IP 127.0.0.1, signed by `ca`. */
  readonly origin: CertPair;
  /** For `wrong-name.test` only, signed by `ca`: a trusted chain with the wrong name. */
  readonly wrongName: CertPair;
  /** Self-signed for `localhost` and 127.0.0.1: trusted by nobody. */
  readonly selfSigned: CertPair;
  /** Removes the folder. */
  cleanup(): Promise<void>;
}

// Our own config, so the result does not depend on the machine's openssl.cnf defaults.
const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_origin]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier = keyid
[v3_wrong_name]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong-name.test
authorityKeyIdentifier = keyid
[v3_self_signed]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
`;

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const DAYS = ['-days', '3'];

/** The subject of the test root CA, as `crypto.X509Certificate#subject` prints it. */
export const TEST_CA_SUBJECT = 'CN=mitm e2e test root CA\nO=mitm tests';

/** Creates the test PKI in a new temp folder (about 0.1 s); call `cleanup()` in `after`. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'mitm-test-pki-'));
  const file = (name: string): string => join(dir, name);
  const cnf = file('openssl.cnf');
  await writeFile(cnf, OPENSSL_CNF);

  await runOk('openssl', [
    'req',
    '-x509',
    '-config',
    cnf,
    '-extensions',
    'v3_ca',
    ...NEW_KEY,
    ...DAYS,
    '-subj',
    '/CN=mitm e2e test root CA/O=mitm tests',
    '-keyout',
    file('ca-key.pem'),
    '-out',
    file('ca.pem'),
  ]);

  const signedByCa = async (name: string, extensions: string): Promise<void> => {
    await runOk('openssl', [
      'req',
      '-new',
      '-config',
      cnf,
      ...NEW_KEY,
      '-subj',
      '/CN=localhost',
      '-keyout',
      file(`${name}-key.pem`),
      '-out',
      file(`${name}.csr`),
    ]);
    await runOk('openssl', [
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca-key.pem'),
      '-set_serial',
      serial(),
      ...DAYS,
      '-extfile',
      cnf,
      '-extensions',
      extensions,
      '-out',
      file(`${name}.pem`),
    ]);
  };
  const selfSigned = (): Promise<unknown> =>
    runOk('openssl', [
      'req',
      '-x509',
      '-config',
      cnf,
      '-extensions',
      'v3_self_signed',
      ...NEW_KEY,
      ...DAYS,
      '-subj',
      '/CN=localhost',
      '-keyout',
      file('self-signed-key.pem'),
      '-out',
      file('self-signed.pem'),
    ]);
  await Promise.all([signedByCa('origin', 'v3_origin'), signedByCa('wrong-name', 'v3_wrong_name'), selfSigned()]);

  const pair = async (name: string): Promise<CertPair> => {
    const certPath = file(`${name}.pem`);
    const keyPath = file(`${name}-key.pem`);
    return { certPath, keyPath, cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
  };
  return {
    dir,
    ca: await pair('ca'),
    origin: await pair('origin'),
    wrongName: await pair('wrong-name'),
    selfSigned: await pair('self-signed'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * A leaf signed by the test root CA for `dnsNames` (e.g. `api.test`, `*.api.test`), written into
 * the PKI's folder under `name`; for origins reached by name through `--resolve`.
 */
export async function createLeaf(pki: TestPki, name: string, dnsNames: readonly string[]): Promise<CertPair> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`leaf file name ${name} must be [a-z0-9-]`);
  const file = (suffix: string): string => join(pki.dir, `${name}${suffix}`);
  await writeFile(
    file('.cnf'),
    `${OPENSSL_CNF}
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${dnsNames.map((dns) => `DNS:${dns}`).join(',')}
authorityKeyIdentifier = keyid
`,
  );
  await runOk('openssl', [
    'req',
    '-new',
    '-config',
    file('.cnf'),
    ...NEW_KEY,
    '-subj',
    `/CN=${dnsNames[0] ?? name}`,
    '-keyout',
    file('-key.pem'),
    '-out',
    file('.csr'),
  ]);
  await runOk('openssl', [
    'x509',
    '-req',
    '-in',
    file('.csr'),
    '-CA',
    pki.ca.certPath,
    '-CAkey',
    join(pki.dir, 'ca-key.pem'),
    '-set_serial',
    serial(),
    ...DAYS,
    '-extfile',
    file('.cnf'),
    '-extensions',
    'v3_leaf',
    '-out',
    file('.pem'),
  ]);
  return {
    certPath: file('.pem'),
    keyPath: file('-key.pem'),
    cert: await readFile(file('.pem'), 'utf8'),
    key: await readFile(file('-key.pem'), 'utf8'),
  };
}

/** A random positive 64-bit serial in the `0x…` form openssl accepts. */
function serial(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}
