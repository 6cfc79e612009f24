import { randomFillSync } from 'node:crypto';

/** WebSocket opcodes (RFC 6455 §5.2). */
export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** One WebSocket frame as read off the wire. */
export interface Frame {
  readonly fin: boolean;
  /** Set on the first frame of a message compressed with permessage-deflate (RFC 7692 §6). */
  readonly rsv1: boolean;
  readonly opcode: number;
  /** The application data, unmasked. */
  readonly payload: Buffer;
  /** The frame exactly as received (header and still-masked payload), for forwarding unchanged. */
  readonly raw: Buffer;
}

/** What the parser saw that no endpoint may send; the relay then tears the connection down. */
export class FrameError extends Error {}

/** A frame read from a chunk: its fields, and its wire bytes as a view made only when asked for. */
class ParsedFrame implements Frame {
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
  readonly #source: Buffer;
  readonly #start: number;
  readonly #end: number;

  constructor(source: Buffer, start: number, end: number, payload: Buffer) {
    const b0 = source[start] as number;
    this.fin = (b0 & 0x80) !== 0;
    this.rsv1 = (b0 & 0x40) !== 0;
    this.opcode = b0 & 0x0f;
    this.payload = payload;
    this.#source = source;
    this.#start = start;
    this.#end = end;
  }

  get raw(): Buffer {
    return this.#source.subarray(this.#start, this.#end);
  }
}

/**
 * Splits a byte stream into WebSocket frames (RFC 6455 §5.2) as chunks arrive. A frame whose
 * payload is larger than `maxPayload` is not buffered: `push` stops there, and `rest()` hands back
 * every byte from that frame's first on, to be relayed without inspection. Frames are read in
 * place (an offset into the first chunk held): only a frame that spans chunks joins them.
 */
export class FrameParser {
  readonly #maxPayload: number;
  #chunks: Buffer[] = [];
  /** Bytes of the first chunk already returned as frames. */
  #offset = 0;
  /** Bytes held, from `#offset` on. */
  #size = 0;
  /** Total length of the frame whose header was read, once known. */
  #frameLength: number | undefined;
  #headerLength = 0;
  #oversized = false;

  constructor(maxPayload: number) {
    this.#maxPayload = maxPayload;
  }

  /** True once a frame was too large to buffer: from then on the caller relays `rest()` raw. */
  get oversized(): boolean {
    return this.#oversized;
  }

  /** Feeds bytes; returns the frames they complete. */
  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
    }
    const frames: Frame[] = [];
    while (!this.#oversized) {
      if (this.#frameLength === undefined && !this.#readHeader()) break;
      const length = this.#frameLength as number;
      if (this.#size < length) break;
      frames.push(this.#takeFrame(length));
    }
    return frames;
  }

  /** The bytes received but not returned as frames. */
  rest(): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined) this.#chunks[0] = first.subarray(this.#offset);
    const out = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#offset = 0;
    this.#size = 0;
    return out;
  }

  /** Reads the header of the next frame if enough bytes are in; false when more are needed. */
  #readHeader(): boolean {
    if (this.#size < 2) return false;
    const have = Math.min(this.#size, 14);
    const buf = this.#gather(have);
    const at = this.#offset;
    const b0 = buf[at] as number;
    const b1 = buf[at + 1] as number;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (have < 4) return false;
      length = buf.readUInt16BE(at + 2);
      offset = 4;
    } else if (length === 127) {
      if (have < 10) return false;
      const high = buf.readUInt32BE(at + 2);
      // The most significant bit must be 0 (§5.2); 2^53 is past anything a Buffer could hold anyway.
      if (high > 0x1fffff) throw new FrameError('frame length out of range');
      length = high * 2 ** 32 + buf.readUInt32BE(at + 6);
      offset = 10;
    }
    if ((b0 & 0x0f) >= 0x8 && (length > 125 || (b0 & 0x80) === 0)) {
      throw new FrameError('control frame fragmented or longer than 125 bytes');
    }
    if (masked) offset += 4;
    if (have < offset) return false;
    if (length > this.#maxPayload) {
      this.#oversized = true;
      return false;
    }
    this.#headerLength = offset;
    this.#frameLength = offset + length;
    return true;
  }

  #takeFrame(length: number): Frame {
    const buf = this.#gather(length);
    const start = this.#offset;
    const end = start + length;
    this.#size -= length;
    this.#frameLength = undefined;
    if (end === buf.length) {
      this.#chunks.shift();
      this.#offset = 0;
    } else {
      this.#offset = end;
    }
    const body = start + this.#headerLength;
    const masked = ((buf[start + 1] as number) & 0x80) !== 0;
    const payload = masked ? xorMask(buf, body, end, buf.readUInt32BE(body - 4)) : buf.subarray(body, end);
    return new ParsedFrame(buf, start, end, payload);
  }

  /** The first chunk, holding at least `n` bytes from `#offset` on: the chunks are joined when it does not. */
  #gather(n: number): Buffer {
    const first = this.#chunks[0] as Buffer;
    if (first.length - this.#offset >= n) return first;
    this.#chunks[0] = first.subarray(this.#offset);
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    this.#offset = 0;
    return joined;
  }
}

/** `source[from, to)` XORed with the 32-bit masking key `key` (§5.3), into a new Buffer. */
function xorMask(source: Buffer, from: number, to: number, key: number): Buffer {
  const out = Buffer.allocUnsafe(to - from);
  for (let i = 0; i < out.length; i += 1) out[i] = (source[from + i] as number) ^ ((key >>> ((3 - (i & 3)) * 8)) & 0xff);
  return out;
}

/** What `encodeFrame` writes. */
export interface FrameInit {
  readonly fin: boolean;
  readonly rsv1?: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
  /** Client-to-server frames must be masked, server-to-client frames must not be (§5.1). */
  readonly mask: boolean;
}

/** The wire bytes of one frame, masked with a fresh random key when `mask` is set (§5.3). */
export function encodeFrame(init: FrameInit): Buffer {
  const length = init.payload.length;
  const extended = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = Buffer.alloc(2 + extended + (init.mask ? 4 : 0));
  header[0] = (init.fin ? 0x80 : 0) | (init.rsv1 ? 0x40 : 0) | init.opcode;
  header[1] = (init.mask ? 0x80 : 0) | (extended === 0 ? length : extended === 2 ? 126 : 127);
  if (extended === 2) header.writeUInt16BE(length, 2);
  if (extended === 8) {
    header.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    header.writeUInt32BE(length >>> 0, 6);
  }
  if (!init.mask) return Buffer.concat([header, init.payload]);
  randomFillSync(header, 2 + extended, 4);
  return Buffer.concat([header, xorMask(init.payload, 0, length, header.readUInt32BE(2 + extended))]);
}

/** A close frame carrying `code` and a short `reason` (§5.5.1). */
export function closeFrame(code: number, reason: string, mask: boolean): Buffer {
  const text = Buffer.from(reason).subarray(0, 123);
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return encodeFrame({ fin: true, opcode: Opcode.close, payload, mask });
}
