import type { SecureContext } from 'node:tls';
import type { ProxyConfig } from '../config/schema.js';
import { loadClientCerts, type OriginContexts } from '../origin/presented-certs.js';
import { createDialer, type Dialer, type OriginLookup } from '../origin/dial.js';
import { loadOriginTrustPems, originTrust } from '../origin/origin-trust.js';
import { PinnedClients } from '../tls/pinned-clients.js';
import { loadProxyAuth, type ProxyAuth } from '../inbound/proxy-auth.js';

/** How the proxy reaches origins and whom it lets in, built once at start from the options. */
export interface Connectivity {
  /** The context verifying origins (origin-trust.ts), built on its first call: startProxy calls it once listening. */
  readonly trust: () => SecureContext;
  /** The TLS context per origin name: the origin trust (origin-trust.ts), plus a --client-cert where a glob matches. */
  readonly originContexts: OriginContexts;
  readonly dialer: Dialer;
  readonly auth: ProxyAuth | undefined;
  readonly pinned: PinnedClients | undefined;
}

// A pinning client is left alone this long, then interception is tried again (the app may have
// been reconfigured to trust the CA meanwhile); the pairs kept are bounded like every other cache.
const AUTO_PASSTHROUGH = { max: 1000, ttlMs: 10 * 60 * 1000 };

/**
 * Reads the trust store, client certificates and credential files; any unreadable file stops
 * start-up with `config_invalid`. `lookup` replaces the system's resolver for origin names;
 * `isOwnEndpoint` tells the dialer which connected endpoints are the proxy's own listeners.
 */
export async function loadConnectivity(
  config: ProxyConfig,
  lookup?: OriginLookup,
  isOwnEndpoint?: (address: string, port: number) => boolean,
): Promise<Connectivity> {
  const [pems, auth] = await Promise.all([loadOriginTrustPems(config.upstreamCa), loadProxyAuth(config)]);
  const trust = originTrust(pems);
  const originContexts = await loadClientCerts(config.clientCert, config.clientCertPassphrase, pems, trust);
  const dialer = createDialer({ ...config, lookup, isOwnEndpoint }, trust);
  return {
    trust,
    originContexts,
    dialer,
    auth,
    pinned: config.autoPassthrough ? new PinnedClients(AUTO_PASSTHROUGH) : undefined,
  };
}
