import type { MitmError } from '../errors.js';
import type { Flow } from '../flow/flow.js';
import type { ServerSentEvent, ServerSentEventVerdict } from '../flow/sse.js';
import type { WebSocketMessage } from '../flow/ws-message.js';

/** A value or a promise of it: every hook phase may be sync or async. */
export type Awaitable<T> = T | Promise<T>;

/** What a CONNECT hook sees. */
export interface ConnectContext {
  /** The CONNECT target host (lower-case; IPv6 without brackets) and port. */
  readonly host: string;
  readonly port: number;
  /** Who asked; `user` is the proxy user its CONNECT or SOCKS5 handshake authenticated as (--proxy-auth). */
  readonly client: { readonly address: string; readonly port: number; readonly user?: string };
}

/** `intercept` decrypts, `tunnel` pipes bytes untouched, `reject` answers 403; undefined leaves it to later hooks and the flags. */
export type ConnectVerdict = 'intercept' | 'tunnel' | 'reject';

/**
 * A named set of optional phase handlers. Hooks run strictly in registration order, each awaited,
 * for every phase; see docs/hooks.md for when each phase fires.
 */
export interface Hook {
  /** Appears in logs and in the 500 a throwing hook causes. */
  readonly name: string;
  /** Per CONNECT, before anything is decided; the first hook that returns a verdict wins. */
  // biome-ignore lint/suspicious/noConfusingVoidType: public hook API: a hook that returns nothing (a void function) is valid.
  onConnect?(context: ConnectContext): Awaitable<ConnectVerdict | undefined | void>;
  /** Before the request goes upstream: change `flow.request`, or `flow.respond()` to answer it (later onRequest hooks are skipped). */
  onRequest?(flow: Flow): Awaitable<void>;
  /** After the response head arrives (or a hook answered), before it goes to the client: change `flow.response`. */
  onResponse?(flow: Flow): Awaitable<void>;
  /**
   * Per server-sent event of a `text/event-stream` response, as it streams: change the event in
   * place, return null to drop it, or return events to send instead (inject before or after it).
   */
  onServerSentEvent?(flow: Flow, event: ServerSentEvent): Awaitable<ServerSentEventVerdict>;
  /**
   * Per WebSocket message (text or binary, reassembled and decompressed), either direction, after
   * the upgrade: change `message.type` / `message.data` in place, or return null to drop it.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: public hook API: a hook that returns nothing (a void function) is valid.
  onWebSocketMessage?(flow: Flow, message: WebSocketMessage): Awaitable<null | undefined | void>;
  /** When the exchange fails (origin unreachable, timeout, a hook threw). Observe only. */
  onError?(flow: Flow, error: MitmError): Awaitable<void>;
  /** After the response was sent or the exchange broke off. Observe only (recording, assertions). */
  onFlowEnd?(flow: Flow): Awaitable<void>;
}
