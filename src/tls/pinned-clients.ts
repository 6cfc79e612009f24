// Clients that refuse our minted certificate (they pin the origin's key, or ship their own trust
// store) fail every intercepted connection. With --auto-passthrough the proxy remembers such a
// client→host pair for a while and tunnels it untouched, so the app keeps working and the user sees
// one line saying why, instead of a wall of handshake failures.
import { LRUCache } from 'lru-cache';
import { formatAuthority, type Target } from '../net/target.js';

// TLS alerts a client sends when it does not accept the certificate itself (RFC 8446 §6.2), as
// OpenSSL names them in err.code; other alerts (protocol_version, handshake_failure...) are about
// something else and never trigger a pass-through.
const REJECTION_ALERTS: Readonly<Record<string, string>> = {
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'unknown_ca',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'bad_certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'certificate_unknown',
};

/**
 * Why a failed client handshake looks like a rejection of our certificate, or undefined when it
 * does not. Counted: one of the three certificate alerts, and a client that hung up or reset the
 * connection mid-handshake without an alert (Node and many apps verify after the handshake
 * messages and just close). Not counted: timeouts, network errors, protocol mismatches.
 */
export function handshakeRejection(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') {
    if (REJECTION_ALERTS[code] !== undefined) return REJECTION_ALERTS[code];
    if (code === 'ECONNRESET') return 'reset the connection during the handshake';
    return undefined;
  }
  // client-tls.ts reports a hang-up during the handshake as a plain Error without a code.
  return error instanceof Error && /closed the connection during the TLS handshake/.test(error.message)
    ? 'closed the connection during the handshake'
    : undefined;
}

/**
 * A failed client handshake in plain words: a certificate alert says the client does not trust
 * `caCertPath` (or refused the certificate) and where to read how to fix that; anything else keeps
 * Node's own message.
 */
export function describeHandshakeFailure(error: unknown, caCertPath: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  const alert = typeof code === 'string' ? REJECTION_ALERTS[code] : undefined;
  if (alert === undefined) return message;
  const what =
    alert === 'unknown_ca'
      ? `does not trust ${caCertPath} (TLS alert: unknown CA)`
      : `rejected our certificate (TLS alert: ${alert.replace('_', ' ')})`;
  return `the client ${what} — see README "Trusting the root CA"`;
}

/** Remembered client→host pairs that rejected our certificate, bounded in number and age. */
export class PinnedClients {
  readonly #pairs: LRUCache<string, string>;
  readonly #ttlMs: number;
  #stopped = false;

  constructor(options: { max: number; ttlMs: number }) {
    this.#ttlMs = options.ttlMs;
    this.#pairs = new LRUCache({ max: options.max, ttl: options.ttlMs });
  }

  /** Why `clientAddress` is tunnelled untouched to `target`, or undefined when it is not. */
  reasonFor(clientAddress: string, target: Target): string | undefined {
    return this.#pairs.get(key(clientAddress, target));
  }

  /** Remembers the pair; returns its expiry when it is new, undefined when it was already known (or after `stop`). */
  remember(clientAddress: string, target: Target, reason: string): number | undefined {
    const pair = key(clientAddress, target);
    if (this.#stopped || this.#pairs.has(pair)) return undefined;
    this.#pairs.set(pair, reason);
    return Date.now() + this.#ttlMs;
  }

  /** Stops learning: connections the proxy itself closes at shutdown say nothing about the client. */
  stop(): void {
    this.#stopped = true;
  }
}

function key(clientAddress: string, target: Target): string {
  return `${clientAddress} ${formatAuthority(target)}`;
}
