import http from 'node:http';
import https from 'node:https';
import type { SecureContext } from 'node:tls';
import type { ProxyConfig } from '../config/schema.js';
import type { Target } from './target.js';

/** An origin as the upstream side dials it. */
export interface OriginTarget extends Target {
  /** Speak TLS to the origin. */
  readonly secure: boolean;
  /** SNI and the name the origin's certificate must carry; '' for an IP literal with no name. */
  readonly servername: string;
}

/** Pooled keep-alive connections to origins, shared by every client. */
export interface Upstream {
  /** Starts a request to `origin`; headers are a flat raw list and must include Host. */
  request(origin: OriginTarget, method: string, path: string, headers: string[]): http.ClientRequest;
  /** Destroys every pooled connection. */
  close(): void;
}

/** Creates the origin side: one agent per scheme, bounded per origin, verifying with `trust`. */
export function createUpstream(config: ProxyConfig, trust: SecureContext): Upstream {
  const pool = {
    keepAlive: true,
    maxSockets: config.maxOriginConnections,
    maxFreeSockets: Math.min(config.maxOriginConnections, 32),
    // Reuse the most recently used socket so idle ones age out instead of all staying warm.
    scheduling: 'lifo' as const,
    // Idle pooled sockets are closed by the agent on timeout; active ones are policed by forward.ts.
    timeout: 60_000,
  };
  const plain = new http.Agent(pool);
  const secure = new https.Agent({ ...pool, secureContext: trust, rejectUnauthorized: !config.insecure });
  return {
    request(origin, method, path, headers) {
      const common = { host: origin.host, port: origin.port, method, path, headers, setHost: false };
      if (!origin.secure) return http.request({ ...common, agent: plain });
      // Explicit servername, '' included: otherwise the agent derives SNI from the Host header,
      // and the CONNECT target, not a client-written header, decides whom we verify.
      return https.request({ ...common, agent: secure, servername: origin.servername });
    },
    close() {
      plain.destroy();
      secure.destroy();
    },
  };
}
