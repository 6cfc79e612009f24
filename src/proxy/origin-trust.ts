import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { MitmError } from '../errors.js';

// Where Debian/Ubuntu, Fedora/RHEL and Alpine/macOS-style systems keep their root bundle.
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * Builds the one TLS context used to verify every origin: Node's bundled roots, the system bundle,
 * `NODE_EXTRA_CA_CERTS` and each `--upstream-ca` file. Built once at start: passing `ca` per
 * connection would re-parse hundreds of roots on every origin handshake.
 */
export async function loadOriginTrust(upstreamCaFiles: readonly string[]): Promise<SecureContext> {
  return createSecureContext({ ca: await loadOriginTrustPems(upstreamCaFiles) });
}

/** The PEM texts `loadOriginTrust` trusts, for contexts that add to them (client certificates, client-certs.ts). */
export async function loadOriginTrustPems(upstreamCaFiles: readonly string[]): Promise<string[]> {
  const pems: string[] = [...rootCertificates];
  const system = await firstReadable(SYSTEM_BUNDLES);
  if (system !== undefined) pems.push(system);
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    // Node itself only warns when this file is unreadable; do the same by skipping it.
    const text = await readFile(extra, 'utf8').catch(() => undefined);
    if (text !== undefined) pems.push(text);
  }
  for (const file of upstreamCaFiles) pems.push(await readCaFile(file));
  return pems;
}

async function readCaFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new MitmError('config_invalid', `--upstream-ca ${file}: cannot read the file (${reason})`, { cause: error });
  }
  try {
    new X509Certificate(text);
  } catch (error) {
    throw new MitmError('config_invalid', `--upstream-ca ${file}: no PEM certificate found in the file`, { cause: error });
  }
  return text;
}

async function firstReadable(files: readonly string[]): Promise<string | undefined> {
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}
