import { X509Certificate } from 'node:crypto';

/** The SHA-256 fingerprint (colon-separated hex) of a PEM certificate; undefined when it does not parse. */
export function caFingerprint(pem: string | undefined): string | undefined {
  if (pem === undefined) return undefined;
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return undefined;
  }
}
