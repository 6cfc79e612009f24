import { Readable, type Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { MitmError } from '../errors.js';

/** How a body leaves the proxy: the untouched stream, or bytes a hook read or wrote. */
export type OutgoingBody =
  | { readonly kind: 'stream'; readonly stream: Readable }
  | { readonly kind: 'bytes'; readonly data: Buffer; readonly replaced: boolean };

/**
 * A message body that streams by default. It is buffered only when a hook reads it, and then
 * only up to `cap` bytes: past the cap the reader gets a `body_too_large` error, and the bytes
 * already read are kept so the body can still be forwarded whole, untruncated. What is finally
 * sent is recorded up to `recordLimit` bytes.
 */
export class Body {
  #source: Readable | undefined;
  readonly #cap: number;
  readonly #what: string;
  readonly #declaredLength: number | undefined;
  // The arrays below start as the shared NONE (never written to) or undefined: a recorded flow
  // keeps its Body for as long as the ring keeps the flow, and each empty array it owned was one
  // more object for every garbage collection to copy and mark (docs/performance.md).
  #chunks: Buffer[] = NONE;
  #reading: Promise<Buffer> | undefined;
  #complete: Buffer | undefined;
  #replacement: Buffer | undefined;
  #streamed = false;
  readonly #recordLimit: number;
  #recorded: Buffer[] | undefined;
  #recordedSize = 0;
  #truncated = false;
  #revision = 0;
  #through: Transform[] | undefined;

  /** `source` is undefined for a message without a body; `what` names it in errors ("the response body of GET https://…"). */
  constructor(
    source: Readable | undefined,
    options: { cap: number; what: string; declaredLength?: number | undefined; recordLimit?: number },
  ) {
    this.#source = source;
    this.#cap = options.cap;
    this.#what = options.what;
    this.#declaredLength = options.declaredLength;
    this.#recordLimit = options.recordLimit ?? 0;
  }

  /** Bytes of this body kept for recording (0: none). */
  /** The most bytes a hook may hold in memory for this body, read or decoded (--max-body-buffer). */
  get cap(): number {
    return this.#cap;
  }

  get recordLimit(): number {
    return this.#recordLimit;
  }

  /** True once a hook replaced the body. */
  get replaced(): boolean {
    return this.#replacement !== undefined;
  }

  /** The body as sent by its author (still content-encoded), buffered on first call. */
  read(): Promise<Buffer> {
    if (this.#replacement) return Promise.resolve(this.#replacement);
    if (this.#streamed && !this.#reading && this.#source === undefined) {
      // The flow is over: what was recorded is the body, when it was recorded whole.
      if (this.#recordLimit > 0 && !this.#truncated) return Promise.resolve(this.recorded().data);
      const why =
        this.#recordLimit === 0
          ? 'no bodies are recorded (keep or recordBodyLimit is 0)'
          : `only its first ${this.#recordLimit} bytes were recorded (recordBodyLimit)`;
      return Promise.reject(new MitmError('body_not_recorded', `${this.#what} was streamed on unread and ${why}`));
    }
    if (this.#streamed && !this.#reading) {
      return Promise.reject(
        new MitmError(
          'body_consumed',
          `${this.#what} was streamed on unread; read bodies in onRequest/onResponse, or use the recording (proxy.har())`,
        ),
      );
    }
    this.#reading ??= this.#buffer();
    return this.#reading;
  }

  /**
   * Streams the body through `transform` on its way out (throttling, metering), after any earlier
   * ones; bodies sent as bytes (replaced, buffered by a hook, made by a mock) are not passed through.
   */
  pipeThrough(transform: Transform): void {
    this.#through ??= [];
    this.#through.push(transform);
  }

  /** Counts replacements, so the hook pipeline can tell whether a hook changed the body. */
  get revision(): number {
    return this.#revision;
  }

  /** Replaces the body; the old one is discarded unread where it was still streaming. */
  replace(data: string | Buffer): void {
    this.#revision += 1;
    this.#replacement = typeof data === 'string' ? Buffer.from(data) : data;
    this.drain();
  }

  /**
   * Reads and drops whatever of the original body is still unread, because it will not be sent
   * (replaced). Left paused, the rest of an upload a hook read only up to the cap would stall the
   * client and every later request on its connection.
   */
  drain(): void {
    this.#chunks = NONE;
    this.#source?.resume();
  }

  /**
   * Reads the body to its end without sending it anywhere (a hook answered the request), recording
   * it as if sent, so the flow still shows what the client sent; resolves once it is read, or its
   * stream broke off.
   */
  consume(): Promise<void> {
    const body = this.outgoing();
    this.recordSent(body);
    if (body.kind === 'bytes') return Promise.resolve();
    body.stream.resume();
    return finished(body.stream).catch(() => undefined);
  }

  /** What to send on: a replacement, the buffered bytes, or the stream (prefixed by bytes read before a cap error). */
  outgoing(): OutgoingBody {
    const bytes = this.#replacement ?? this.#complete;
    if (bytes) return { kind: 'bytes', data: bytes, replaced: this.#replacement !== undefined };
    this.#streamed = true;
    const source = this.#source ?? Readable.from([]);
    // A recorded flow outlives its connection: dropping the stream (and the socket behind it) once
    // it is done keeps each kept flow down to its recorded bytes.
    source.once('close', () => {
      this.#source = undefined;
    });
    const head = this.#chunks;
    this.#chunks = NONE;
    let stream: Readable = head.length === 0 ? source : Readable.from(prefixed(head, source));
    for (const transform of this.#through ?? NONE_THROUGH) {
      // Errors travel downstream and a torn-down reader tears down the source, as pipeline() would.
      const from = stream;
      from.once('error', (error) => transform.destroy(error));
      transform.once('close', () => {
        if (!from.readableEnded) from.destroy();
      });
      stream = from.pipe(transform);
    }
    return { kind: 'stream', stream };
  }

  /** Records what is actually sent (after any rewriting), up to the record limit. */
  recordSent(body: OutgoingBody): void {
    if (this.#recordLimit === 0) return;
    if (body.kind === 'bytes') {
      this.#record(body.data);
      return;
    }
    const listener = (chunk: Buffer): void => {
      this.#record(chunk);
      // Past the limit nothing more is kept: a large body pays nothing more per chunk.
      if (this.#truncated) body.stream.off('data', listener);
    };
    body.stream.on('data', listener);
  }

  /** The bytes sent so far, up to the record limit; `truncated` when more went through. */
  recorded(): { readonly data: Buffer; readonly truncated: boolean } {
    let recorded = this.#recorded;
    if (recorded === undefined) return { data: EMPTY, truncated: this.#truncated };
    if (recorded.length > 1) {
      recorded = [Buffer.concat(recorded)];
      this.#recorded = recorded;
    }
    return { data: recorded[0] ?? EMPTY, truncated: this.#truncated };
  }

  /** Stops reading a body nobody will send (a hook failed after the origin answered). */
  discard(): void {
    this.#source?.destroy();
  }

  #record(chunk: Buffer): void {
    const room = this.#recordLimit - this.#recordedSize;
    if (room <= 0) {
      this.#truncated ||= chunk.length > 0;
      return;
    }
    // A copy, not a view: a view would keep the whole (often 64 KiB) read buffer behind it alive.
    const kept = Buffer.from(chunk.length <= room ? chunk : chunk.subarray(0, room));
    this.#truncated ||= kept.length < chunk.length;
    this.#recorded ??= [];
    this.#recorded.push(kept);
    this.#recordedSize += kept.length;
  }

  async #buffer(): Promise<Buffer> {
    if (!this.#source) {
      this.#complete = Buffer.alloc(0);
      return this.#complete;
    }
    if (this.#declaredLength !== undefined && this.#declaredLength > this.#cap) throw this.#tooLarge();
    let size = 0;
    // destroyOnReturn: false leaves the unread rest in the stream when the cap stops us early.
    for await (const chunk of this.#source.iterator({ destroyOnReturn: false })) {
      // A fresh array on the first chunk, and again after a drain() (never the shared NONE).
      if (this.#chunks === NONE) this.#chunks = [];
      this.#chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > this.#cap) break;
    }
    if (size > this.#cap) throw this.#tooLarge();
    this.#complete = Buffer.concat(this.#chunks);
    this.#chunks = NONE;
    this.#source = undefined;
    return this.#complete;
  }

  #tooLarge(): MitmError {
    return new MitmError(
      'body_too_large',
      `${this.#what} is larger than the ${this.#cap} byte buffer limit (--max-body-buffer); it is streamed through unread`,
    );
  }
}

const NONE: Buffer[] = [];
const NONE_THROUGH: readonly Transform[] = [];
const EMPTY = Buffer.alloc(0);

async function* prefixed(head: Buffer[], rest: Readable): AsyncGenerator<Buffer> {
  yield* head;
  for await (const chunk of rest) yield chunk as Buffer;
}
