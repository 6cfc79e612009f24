// Who may open a client connection, and how many: --allow-client, --max-connections and
// --max-client-connections. Checked as a connection is accepted, before a byte is read.
import type { Socket } from 'node:net';
import { MitmError } from '../errors.js';
import { writeRawError } from '../exchange/error-response.js';
import type { ClientRefusal } from '../events.js';
import { onFirstBytes } from './first-bytes.js';

/** The limits a gate enforces. */
export interface AdmissionLimits {
  /** True for addresses allowed to connect; undefined when every address is. */
  readonly allow: ((address: string) => boolean) | undefined;
  readonly maxConnections: number;
  readonly maxPerClient: number | undefined;
}

// An over-limit client is told so only once it has spoken, so its request is not answered by a
// reset (closing with unread bytes sends RST, which can discard the answer). It gets this long.
const POLITE_MS = 5_000;
const TLS_HANDSHAKE = 0x16;
const SOCKS_VERSION = 0x05;

/** Counts open client connections per address and turns away those beyond the limits. */
export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #onRefuse: (refusal: ClientRefusal) => void;
  readonly #perClient = new Map<string, number>();
  #open = 0;

  constructor(limits: AdmissionLimits, onRefuse: (refusal: ClientRefusal) => void) {
    this.#limits = limits;
    this.#onRefuse = onRefuse;
  }

  /** Client connections admitted and still open. */
  get open(): number {
    return this.#open;
  }

  /**
   * Admits `socket` (counted until it closes) or refuses it: an address outside `--allow-client` is
   * closed at once; one over a connection limit gets `503` if it speaks HTTP, else is closed.
   */
  admit(socket: Socket, mode: string): boolean {
    const address = socket.remoteAddress ?? '';
    const client = { address, port: socket.remotePort ?? 0 };
    const { allow, maxConnections, maxPerClient } = this.#limits;
    if (allow !== undefined && !allow(address)) {
      socket.destroy();
      this.#onRefuse({ client, mode, reason: 'client_not_allowed' });
      return false;
    }
    const fromClient = this.#perClient.get(address) ?? 0;
    const reason =
      this.#open >= maxConnections
        ? 'max_connections'
        : maxPerClient !== undefined && fromClient >= maxPerClient
          ? 'max_client_connections'
          : undefined;
    if (reason !== undefined) {
      refusePolitely(
        socket,
        reason === 'max_connections'
          ? `the proxy is serving its limit of ${maxConnections} connections (--max-connections)`
          : `${address} has ${fromClient} connections open, the limit per client (--max-client-connections)`,
      );
      this.#onRefuse({ client, mode, reason });
      return false;
    }
    this.#open++;
    this.#perClient.set(address, fromClient + 1);
    socket.once('close', () => {
      this.#open--;
      const left = (this.#perClient.get(address) ?? 1) - 1;
      if (left <= 0) this.#perClient.delete(address);
      else this.#perClient.set(address, left);
    });
    return true;
  }
}

/** Answers an HTTP client `503 too_many_connections` once it has sent something; closes anything else. */
function refusePolitely(socket: Socket, message: string): void {
  socket.on('error', () => socket.destroy());
  onFirstBytes(socket, POLITE_MS, (first) => {
    if (first[0] === TLS_HANDSHAKE || first[0] === SOCKS_VERSION) {
      socket.destroy();
      return;
    }
    writeRawError(socket, new MitmError('too_many_connections', message));
    // Read and drop the rest of the request so the close is a FIN, not a reset; then give up.
    socket.resume();
    socket.setTimeout(POLITE_MS, () => socket.destroy());
    socket.once('end', () => socket.destroy());
  });
}
