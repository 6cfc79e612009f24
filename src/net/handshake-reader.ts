import type { Duplex } from 'node:stream';

/**
 * Reads a socket's bytes in exact amounts while a proxy handshake (SOCKS5, an HTTP CONNECT answer)
 * runs, then hands the socket back with whatever arrived beyond the handshake unshifted, so the
 * first bytes of the tunnel are never lost. It reads in paused mode ('readable'), so the socket it
 * hands back is neither flowing nor explicitly paused: the next consumer's 'data' listener starts
 * it, as on a fresh socket (node:http's client never resumes a paused one).
 */
export class HandshakeReader {
  readonly #socket: Duplex;
  #buffer: Buffer = Buffer.alloc(0);
  #ended: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: Duplex) {
    this.#socket = socket;
    socket.on('readable', this.#onReadable);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  /** Resolves with exactly `n` bytes; rejects when the peer closes first. */
  async read(n: number): Promise<Buffer> {
    while (this.#buffer.length < n) await this.#more();
    const bytes = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return bytes;
  }

  /** Resolves with the bytes up to and including `delimiter`; rejects past `max` bytes or when the peer closes. */
  async readUntil(delimiter: string, max: number): Promise<Buffer> {
    for (;;) {
      const at = this.#buffer.indexOf(delimiter);
      if (at >= 0) return this.read(at + delimiter.length);
      if (this.#buffer.length > max) throw new Error(`no ${JSON.stringify(delimiter)} within ${max} bytes`);
      await this.#more();
    }
  }

  /** Stops reading and gives the socket back with any surplus bytes unshifted. */
  release(): void {
    // Removing the last 'readable' listener returns the stream to its initial, not-flowing state.
    this.#socket.off('readable', this.#onReadable);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onError);
    if (this.#buffer.length > 0) this.#socket.unshift(this.#buffer);
    this.#buffer = Buffer.alloc(0);
  }

  /** Waits for more bytes; rejects once the peer has closed or failed. */
  #more(): Promise<void> {
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  readonly #onReadable = (): void => {
    for (let chunk = this.#socket.read() as Buffer | null; chunk !== null; chunk = this.#socket.read() as Buffer | null) {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    }
    this.#signal();
  };

  readonly #onEnd = (): void => {
    this.#ended ??= new Error('the peer closed the connection');
    this.#signal();
  };

  readonly #onError = (error: Error): void => {
    this.#ended ??= error;
    this.#signal();
  };

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
