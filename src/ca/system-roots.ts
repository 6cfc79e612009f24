// The operating system's root certificates: trusted for origins (origin-trust.ts) and bundled
// with our CA for clients whose CA variable replaces their trust store (harness/ca-bundle.ts).
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';

/**
 * Where distributions keep their root bundle, in the order Go's crypto/x509 tries them: Debian,
 * Ubuntu, Arch, Gentoo; Fedora, RHEL 6; openSUSE; OpenELEC; CentOS, RHEL 7+; Alpine, macOS, BSDs.
 */
export const SYSTEM_BUNDLE_PATHS: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

/** The system's root certificates as PEM text, and where they came from. */
export interface SystemRoots {
  readonly pem: string;
  /** The bundle file read, or 'node' for Node's built-in list (tls.rootCertificates). */
  readonly source: string;
}

/** Reads the first system bundle that holds a certificate; falls back to Node's own root list. */
export async function readSystemRoots(paths: readonly string[] = SYSTEM_BUNDLE_PATHS): Promise<SystemRoots> {
  for (const path of paths) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text?.includes('-----BEGIN CERTIFICATE-----')) return { pem: text, source: path };
  }
  return { pem: `${rootCertificates.join('\n')}\n`, source: 'node' };
}
