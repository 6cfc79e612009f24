import zlib from 'node:zlib';

/** What the origin's 101 settled for permessage-deflate (RFC 7692 §7.1), as far as the relay cares. */
export interface DeflateAgreement {
  /** The client resets its compressor after each message, so no message depends on an earlier one. */
  readonly clientNoContextTakeover: boolean;
  readonly serverNoContextTakeover: boolean;
}

/**
 * Reads the origin's `Sec-WebSocket-Extensions` answer. `none`: frames carry plain payloads.
 * `deflate`: permessage-deflate alone, which the relay can decompress. `unknown`: an extension the
 * relay does not understand changes the frames, so they can only be relayed untouched.
 */
export function readExtensions(
  header: string | undefined,
): { kind: 'none' } | { kind: 'deflate'; agreement: DeflateAgreement } | { kind: 'unknown' } {
  const offers = (header ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (offers.length === 0) return { kind: 'none' };
  if (offers.length > 1) return { kind: 'unknown' };
  const [name, ...params] = (offers[0] as string).split(';').map((part) => part.trim().toLowerCase());
  if (name !== 'permessage-deflate') return { kind: 'unknown' };
  const names = new Set(params.map((param) => param.split('=')[0]?.trim()));
  return {
    kind: 'deflate',
    agreement: {
      clientNoContextTakeover: names.has('client_no_context_takeover'),
      serverNoContextTakeover: names.has('server_no_context_takeover'),
    },
  };
}

// Appended to each message before inflating: the sender removed it (RFC 7692 §7.2.2).
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Inflates one direction's compressed messages in order. It keeps the LZ77 window across
 * messages, as the sender's compressor does under context takeover; a 15-bit window decodes
 * whatever window size the two ends agreed on.
 */
export class MessageInflater {
  #zlib: zlib.InflateRaw | undefined;
  #chunks: Buffer[] = [];
  #error: Error | undefined;

  /** Inflates one frame's payload; `fin` marks the message's last frame. Rejects on corrupt data. */
  inflate(payload: Buffer, fin: boolean): Promise<Buffer> {
    const inflater = this.#open();
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        this.#error = error;
        reject(error);
      };
      inflater.once('error', fail);
      inflater.write(payload);
      if (fin) inflater.write(TRAILER);
      inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        inflater.off('error', fail);
        const out = Buffer.concat(this.#chunks);
        this.#chunks = [];
        if (!this.#error) resolve(out);
      });
    });
  }

  /** Frees zlib's memory. */
  close(): void {
    this.#zlib?.close();
    this.#zlib = undefined;
  }

  #open(): zlib.InflateRaw {
    if (this.#error) throw this.#error;
    // A sender may end a message with a BFINAL block (RFC 7692 §7.2.3.4), which ends the zlib
    // stream: the next message then starts a new one.
    if (this.#zlib && !this.#zlib.readableEnded) return this.#zlib;
    this.#zlib?.close();
    const inflater = zlib.createInflateRaw({ windowBits: 15 });
    inflater.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    this.#zlib = inflater;
    return inflater;
  }
}
