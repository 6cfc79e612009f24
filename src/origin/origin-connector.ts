// The one seam every origin connection goes through (origin-agents.ts builds it): upstream proxies
// and --upstream-bypass in `dial`, origin trust and --client-cert in `secure`.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Target } from '../net/target.js';

/**
 * Opens connections to origins: the seam for upstream proxies (`dial`) and client certificates
 * (`secure`). Every origin connection the upstream makes starts in `dial`.
 */
export interface OriginConnector {
  /**
   * A connected socket to `target`; rejects with a connect error or a MitmError naming the origin.
   * `signal` abandons the dial and destroys what it had opened (the upstream closing).
   */
  dial(target: Target, signal?: AbortSignal): Promise<Socket>;
  /**
   * TLS over `socket`, verified against the origin trust unless --insecure; '' servername means
   * none (IP literal). `session` is a ticket from an earlier connection to the same origin, to resume.
   */
  secure(
    socket: Duplex,
    options: { servername: string; host: string; ALPNProtocols?: string[] | undefined; session?: Buffer | undefined },
  ): TLSSocket;
}
