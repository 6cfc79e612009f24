// HTTP/2 sessions to origins, one per origin (host, port and SNI name), each carrying many
// concurrent streams. A session that receives GOAWAY, closes or fails is dropped at once, so the
// next request opens a fresh one; one left without streams for `idleMs` is closed.
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { MitmError } from '../errors.js';
import { linkConnection } from './origin-connection.js';
import { closingError } from './origin-handshake.js';

const CONNECTION_WINDOW = 1 << 20;

/** Live HTTP/2 sessions to origins, keyed by `originKey`. */
export class H2SessionPool {
  readonly #sessions = new Map<string, ClientHttp2Session>();
  readonly #streams = new WeakMap<ClientHttp2Session, number>();
  readonly #all = new Set<ClientHttp2Session>();
  readonly #idleMs: number;
  #closed = false;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  /** The session for `key` that still takes new streams, if any. */
  get(key: string): ClientHttp2Session | undefined {
    const session = this.#sessions.get(key);
    if (session && (session.closed || session.destroyed)) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session;
  }

  /**
   * Starts a session on a TLS socket that negotiated h2 and adds it to the pool once the origin's
   * SETTINGS arrived: streams opened before then could exceed the origin's concurrency limit and be
   * refused (nghttp2 queues streams beyond the limit only once it knows the limit).
   */
  async open(key: string, socket: TLSSocket, authority: string, timeoutMs: number): Promise<ClientHttp2Session> {
    // A handshake that finished as the pool closed must not start a session nobody will close.
    if (this.#closed) {
      socket.destroy();
      throw closingError();
    }
    const session = http2.connect(`https://${authority}`, {
      createConnection: () => socket,
      // Server push is for browsers' caches; a proxy would only have to refuse every pushed stream.
      settings: { enablePush: false },
    });
    linkConnection(session, socket);
    this.#all.add(session);
    this.#streams.set(session, 0);
    const forget = (): void => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    // Streams see a session failure as their own 'error'; the pool only has to stop handing it out.
    session.on('error', forget);
    session.once('goaway', forget);
    session.once('close', () => {
      forget();
      this.#all.delete(session);
    });
    session.on('timeout', () => {
      if (this.#streams.get(session) === 0) session.close();
    });
    await new Promise<void>((resolve, reject) => {
      // Every way out clears the timer and the other listeners: a timer left armed would hold the
      // process for `timeoutMs` after close() (issue #11).
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        session.off('remoteSettings', onSettings);
        session.off('error', onError);
        session.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => {
        session.destroy();
        settle(new MitmError('upstream_timeout', `${authority} sent no HTTP/2 settings within ${timeoutMs} ms`));
      }, timeoutMs).unref(); // the session's socket keeps the process alive while it matters
      const onSettings = (): void => settle();
      const onError = (error: Error): void => settle(error);
      const onClose = (): void => settle(Object.assign(new Error('the HTTP/2 session closed before it started'), { code: 'ECONNRESET' }));
      session.once('remoteSettings', onSettings);
      session.once('error', onError);
      session.once('close', onClose);
    });
    // The connection's receive window, shared by all its streams: with Node's 64 KiB, 100 streams of
    // 1 KiB answers already wait for WINDOW_UPDATEs. Each stream keeps its own 64 KiB window, which
    // is what bounds the bytes buffered for a slow client.
    if (!session.destroyed) session.setLocalWindowSize(CONNECTION_WINDOW);
    this.#sessions.set(key, session);
    session.setTimeout(this.#idleMs);
    return session;
  }

  /** Counts `stream` against its session until it closes, so only sessions without streams are closed as idle. */
  track(session: ClientHttp2Session, stream: ClientHttp2Stream): void {
    this.#streams.set(session, (this.#streams.get(session) ?? 0) + 1);
    stream.once('close', () => {
      const left = (this.#streams.get(session) ?? 1) - 1;
      this.#streams.set(session, left);
      // The session timer fires once per quiet spell; re-arm it for the quiet spell starting now.
      if (left === 0 && !session.destroyed) session.setTimeout(this.#idleMs);
    });
  }

  /** Destroys every session, and each socket offered to open() later. */
  close(): void {
    this.#closed = true;
    for (const session of this.#all) session.destroy();
    this.#all.clear();
    this.#sessions.clear();
  }
}
