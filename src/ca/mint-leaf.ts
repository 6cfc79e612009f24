// Per-host leaf certificates, signed by the root CA on demand. One key pair per minter is shared by
// every leaf (as mitmproxy and mockttp do): generating an RSA key per host would cost ~50-100 ms each.
import { generateKeyPair } from 'node:crypto';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { ipAddressBytes, normalizeHost } from '../net/target.js';
import type { CertificateAuthority } from './authority.js';
import { createTurnQueue } from './turn-queue.js';
import { createLeafSigner, type LeafSigner } from './x509.js';

/** A minted leaf: certificate and (shared) key as PEM, and when the certificate expires. */
export interface LeafCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly notAfter: Date;
}

/** Mints leaf certificates for host names and IP addresses. */
export interface LeafMinter {
  /**
   * Mints a certificate for `host` (normalised first; throws `host_invalid` for unacceptable names),
   * also naming `extraNames` (DNS names, `*.` wildcards or IPs) in its subjectAltName.
   */
  mint(host: string, extraNames?: readonly string[]): Promise<LeafCertificate>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
// Backdated a day for clients with slow clocks. Total validity stays under Chromium's 200-day cap on
// leaf lifetimes (CA/B Forum SC-081), with margin: 1 day back + 196 days ahead = 197 days.
const BACKDATE_MS = DAY_MS;
const VALIDITY_MS = 197 * DAY_MS;
// RFC 5280's ub-common-name: longer names go in the SAN only (browsers ignore CN anyway).
const MAX_COMMON_NAME = 64;

const generateKeyPairAsync = promisify(generateKeyPair);

// Signatures run on libuv's thread pool (~1 ms each with an RSA-2048 CA key). A burst of new hosts
// would otherwise keep all four pool threads signing at once, and on a machine with few cores they
// take turns on the CPU with the event loop, stretching every turn of it (and a DNS lookup or file
// read waits behind them in the pool). One core is left to the event loop: the loop builds one
// SecureContext per turn (~1 ms), so more signatures at once would not mint faster.
const SIGNS_AT_ONCE = Math.max(1, Math.min(4, availableParallelism() - 1));

/**
 * Creates a minter for `ca`, generating the shared leaf key pair off the event loop: ECDSA P-256 by
 * default, whose handshake signature costs the proxy ~0.02 ms where RSA-2048's costs ~0.25 ms (curl,
 * OpenSSL, Node, Python and Chromium accept it under an RSA root), or RSA-2048 for older clients.
 */
export async function createLeafMinter(ca: CertificateAuthority, keyType: 'ec' | 'rsa' = 'ec'): Promise<LeafMinter> {
  const { publicKey, privateKey } =
    keyType === 'ec'
      ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
      : await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // Built on the first mint: it needs node-forge, which start-up does not load (x509.ts).
  let signer: LeafSigner | undefined;
  const caNotAfter = Date.parse(ca.cert.validTo);
  const nextTurn = createTurnQueue();
  const signing = createGate(SIGNS_AT_ONCE);

  return {
    async mint(host, extraNames = []) {
      const name = normalizeHost(host);
      const extras = extraNames.map(normalizeSanName).filter((extra) => extra !== name);
      const altNames = [...new Set([name, ...extras])].map(toAltName);
      // Building a certificate with forge is synchronous (~0.05-0.2 ms); a burst of new hosts would
      // otherwise run all of those builds back to back and stall every connection meanwhile.
      await nextTurn();
      const now = Date.now();
      const notBefore = new Date(now - BACKDATE_MS);
      // A leaf that outlives its CA would claim a validity no client grants it.
      const notAfter = new Date(Math.min(now - BACKDATE_MS + VALIDITY_MS, caNotAfter));
      signer ??= createLeafSigner(ca.certPem, ca.key, publicKey);
      const leafSigner = signer;
      const commonName = name.length <= MAX_COMMON_NAME ? name : undefined;
      const certPem = await signing(() => leafSigner.sign({ commonName, altNames, notBefore, notAfter }));
      return { certPem, keyPem, notAfter };
    },
  };
}

/** Runs at most `limit` of the tasks given to it at once, the others in call order as slots free up. */
function createGate(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // A freed slot passes straight to the next waiter, so `running` counts it still.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/** Validates an extra SAN name like a host, allowing one leading `*.` wildcard label (RFC 6125 §6.4.3). */
function normalizeSanName(name: string): string {
  return name.startsWith('*.') ? `*.${normalizeHost(name.slice(2))}` : normalizeHost(name);
}

/** One subjectAltName entry: an IP address as its bytes, anything else as a DNS name. */
function toAltName(name: string): { dns: string } | { ip: Buffer } {
  return isIP(name) === 0 ? { dns: name } : { ip: ipAddressBytes(name) };
}
