// Per-host leaf certificates, signed by the root CA on demand. One RSA key pair per minter is shared
// by every leaf (as mitmproxy and mockttp do): generating a key per host would cost ~50-100 ms each.
import { generateKeyPair } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { MitmError } from '../errors.js';
import { normalizeHost } from '../proxy/target.js';
import type { CertificateAuthority } from './authority.js';
import { createLeafSigner } from './x509.js';

/** A minted leaf: certificate and (shared) key as PEM, and when the certificate expires. */
export interface LeafCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly notAfter: Date;
}

/** Mints leaf certificates for host names and IP addresses. */
export interface LeafMinter {
  /** Mints a certificate for `host` (normalised first; throws `host_invalid` for unacceptable names). */
  mint(host: string): Promise<LeafCertificate>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
// Backdated a day for clients with slow clocks. Total validity stays under Chromium's 200-day cap on
// leaf lifetimes (CA/B Forum SC-081), with margin: 1 day back + 196 days ahead = 197 days.
const BACKDATE_MS = DAY_MS;
const VALIDITY_MS = 197 * DAY_MS;
// RFC 5280's ub-common-name: longer names go in the SAN only (browsers ignore CN anyway).
const MAX_COMMON_NAME = 64;

const generateKeyPairAsync = promisify(generateKeyPair);

/** Creates a minter for `ca`, generating the shared leaf key pair (RSA-2048, off the event loop). */
export async function createLeafMinter(ca: CertificateAuthority): Promise<LeafMinter> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const signer = createLeafSigner(ca.certPem, ca.key, publicKey);
  const caNotAfter = Date.parse(ca.cert.validTo);
  const nextTurn = createTurnQueue();

  return {
    async mint(host) {
      const name = normalizeHost(host);
      const ip = ipAddressBytes(name);
      // Building a certificate with forge is synchronous (~0.05-0.2 ms); a burst of new hosts would
      // otherwise run all of those builds back to back and stall every connection meanwhile.
      await nextTurn();
      const now = Date.now();
      const notBefore = new Date(now - BACKDATE_MS);
      // A leaf that outlives its CA would claim a validity no client grants it.
      const notAfter = new Date(Math.min(now - BACKDATE_MS + VALIDITY_MS, caNotAfter));
      const certPem = await signer.sign({
        commonName: name.length <= MAX_COMMON_NAME ? name : undefined,
        altName: ip === undefined ? { dns: name } : { ip },
        notBefore,
        notAfter,
      });
      return { certPem, keyPem, notAfter };
    },
  };
}

/**
 * Returns a function whose promises resolve one per event-loop iteration, in call order. Each
 * setImmediate is queued from the previous one's callback, so it runs in the next iteration, after
 * timers and I/O have had their turn.
 */
function createTurnQueue(): () => Promise<void> {
  const waiting: Array<() => void> = [];
  let head = 0;
  const releaseOne = (): void => {
    waiting[head++]?.();
    if (head < waiting.length) {
      setImmediate(releaseOne);
    } else {
      waiting.length = 0;
      head = 0;
    }
  };
  return () =>
    new Promise<void>((resolve) => {
      if (waiting.push(resolve) === 1) setImmediate(releaseOne);
    });
}

/** The network-order bytes of an IP literal, or undefined for a DNS name. */
function ipAddressBytes(host: string): Buffer | undefined {
  const family = isIP(host);
  if (family === 0) return undefined;
  if (family === 4) return Buffer.from(host.split('.').map(Number));
  if (host.includes('%')) {
    // A zone index (fe80::1%eth0) means something only on this machine; no certificate can name it.
    throw new MitmError('host_invalid', `cannot issue a certificate for ${JSON.stringify(host.slice(0, 80))}`);
  }
  return ipv6Bytes(host);
}

// Expands an IPv6 literal that isIP() has already accepted (so only '::' and a trailing dotted quad
// need handling, not validation) into its 16 bytes.
function ipv6Bytes(address: string): Buffer {
  const dottedQuad = /\d+\.\d+\.\d+\.\d+$/.exec(address)?.[0];
  const text = dottedQuad === undefined ? address : `${address.slice(0, -dottedQuad.length)}0:0`;
  const [head = '', tail] = text.split('::');
  const split = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const headGroups = split(head);
  const tailGroups = tail === undefined ? [] : split(tail);
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const bytes = Buffer.alloc(16);
  [...headGroups, ...zeros, ...tailGroups].forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  if (dottedQuad !== undefined) Buffer.from(dottedQuad.split('.').map(Number)).copy(bytes, 12);
  return bytes;
}
