/**
 * An HTTP/2 client stream as the exchange sees it, on Node's core `stream` API: a light request
 * view made from the header block Node hands out (no copy of it), and a response written with
 * `respond()`. Node's compatibility API (Http2ServerRequest/Response) made two stream-like
 * objects per stream, a dozen listeners and a second buffer for the request body, whether or not
 * anything looked at them (docs/performance.md, "HTTP/2").
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

const NO_TRAILERS: readonly string[] = [];

/** The request of an HTTP/2 stream: method, target and fields as its HEADERS frame carried them. */
export class H2Request {
  readonly httpVersion = '2.0';
  readonly stream: ServerHttp2Stream;
  /** The header block as Node decoded it, pseudo-header fields included. */
  readonly headers: IncomingHttpHeaders;
  /** The same fields as a flat list, in the order received. */
  readonly rawHeaders: string[];
  readonly method: string;
  /** `:path` (absent for a plain CONNECT). */
  readonly url: string | undefined;
  /** Trailer fields as a flat list, once the body has ended with some. */
  rawTrailers: readonly string[] = NO_TRAILERS;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]) {
    this.stream = stream;
    this.headers = headers;
    this.rawHeaders = rawHeaders;
    this.method = headers[':method'] ?? 'GET';
    this.url = headers[':path'];
    // A request that ended with its HEADERS frame has no body, and so no trailers either.
    if (!stream.endAfterHeaders) {
      stream.once('trailers', (_fields: unknown, _flags: unknown, raw: string[]) => {
        this.rawTrailers = raw;
      });
    }
  }

  /** The client's connection (Node's stand-in for the session's socket). */
  get socket(): Socket {
    return (this.stream.session as NonNullable<ServerHttp2Stream['session']>).socket as Socket;
  }

  /** Reads and drops the request body. */
  resume(): void {
    this.stream.resume();
  }

  /**
   * The request body as a Readable of its own. Whoever reads a body may destroy it once done
   * (undici does, and so does an async iterator), which must not reset the client's stream, whose
   * writable side still carries the response; so a body is read through a view, as the
   * compatibility API's request was. A request that ended with its HEADERS frame has nothing to
   * read, and its stream, already ended, serves as the body.
   */
  body(): Readable {
    const stream = this.stream;
    if (stream.endAfterHeaders) return stream;
    const view = new Readable({ read: () => stream.resume() });
    let ended = false;
    stream.on('data', (chunk: Buffer) => {
      if (!view.push(chunk)) stream.pause();
    });
    stream.once('end', () => {
      ended = true;
      view.push(null);
    });
    // A stream reset before its body ended: the view closes without an end (no error event, which
    // nobody might be listening for; readers see a premature close).
    stream.once('close', () => {
      if (!ended) view.destroy();
    });
    return view;
  }
}

/**
 * The response to an H2Request: what the exchange, the landing site and the error answers write.
 * Node adds a Date field unless `sendDate` is false; an answer to HEAD (and 204, 205, 304) ends
 * the stream with its HEADERS frame, whatever body follows.
 */
export class H2Response {
  readonly req: H2Request;
  /** The status sent (or to send, for `end()` without `writeHead()`). */
  statusCode = 200;
  /** False keeps Node from adding a Date field (the origin's is passed on as it was). */
  sendDate = true;
  #trailers: OutgoingHttpHeaders | undefined;

  constructor(req: H2Request) {
    this.req = req;
  }

  /** The client's stream, which carries the response. */
  get stream(): ServerHttp2Stream {
    return this.req.stream;
  }

  /** True once the head went out. */
  get headersSent(): boolean {
    return this.req.stream.headersSent;
  }

  /**
   * Sends the head. With `trailers`, the stream waits after the body for trailer fields
   * (`addTrailers`, none if nothing was added); otherwise the last DATA frame ends it.
   */
  writeHead(status: number, headers: OutgoingHttpHeaders, trailers = false): void {
    this.statusCode = status;
    const stream = this.req.stream;
    // As the compatibility API did: nothing to send on a stream that is gone (respond() would throw).
    if (stream.destroyed || stream.closed) return;
    headers[':status'] = status;
    stream.respond(headers, { waitForTrailers: trailers, sendDate: this.sendDate } as { waitForTrailers: boolean });
    if (trailers) stream.once('wantTrailers', () => stream.sendTrailers(this.#trailers ?? {}));
  }

  /** Sends the head with END_STREAM: no body, no trailers. */
  endWithHead(status: number, headers: OutgoingHttpHeaders): void {
    this.statusCode = status;
    const stream = this.req.stream;
    if (stream.destroyed || stream.closed) return;
    headers[':status'] = status;
    stream.respond(headers, { endStream: true, sendDate: this.sendDate } as { endStream: boolean });
  }

  /** Queues trailer fields for a response whose head asked for them. */
  addTrailers(fields: OutgoingHttpHeaders): void {
    this.#trailers = { ...this.#trailers, ...fields };
  }

  /** Ends the body with `data` (the head goes first if it has not yet, with `statusCode`). */
  end(data?: string | Buffer): void {
    if (!this.headersSent) this.writeHead(this.statusCode, {});
    const stream = this.req.stream;
    if (!stream.writableEnded && !stream.destroyed) stream.end(data);
  }

  /** Breaks the stream off (RST_STREAM). */
  destroy(error?: Error): void {
    this.req.stream.destroy(error);
  }

  /** `listener` runs once the stream has closed, whichever side closed it. */
  once(event: 'close', listener: () => void): this {
    this.req.stream.once(event, listener);
    return this;
  }
}
