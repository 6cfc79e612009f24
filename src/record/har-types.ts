/**
 * The HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) types `mitm` writes: those of
 * `@types/har-format`, plus the custom fields `mitm` adds and the few narrower types the writer
 * relies on. Fields starting with `_` are custom fields, which the spec allows and importers such
 * as Chrome DevTools ignore. Sizes are in bytes and times in milliseconds; -1 means "not known".
 */

import type { Content, Entry, Log, Param, PostDataCommon, Request, Response, Timings } from 'har-format';
import type { FlowTls } from '../flow/tls-facts.js';

/** A HAR file: one log. */
export interface Har {
  log: HarLog;
}

/** The root of the recorded data; `pages` is always empty (a proxy sees requests, not page loads). */
export type HarLog = Omit<Log, 'entries'> & {
  /** Oldest request first. */
  entries: HarEntry[];
};

/** One request/response exchange. */
export type HarEntry = Omit<Entry, 'request'> & {
  request: HarRequest;
  response: HarResponse;
  timings: HarTimings;
  /** Why the exchange failed; the response then has status 0. */
  _error?: { code: string; message: string };
  /** The flow's id (`flow.id`, the FlowRecord's `id`), to find an entry from a log line. */
  _id: number;
  /** `flow.tags`, e.g. `mocked`. */
  _tags: string[];
  /** The kind of listener the request came through: `regular`, `transparent` or `reverse` (docs/modes.md). */
  _mode: string;
  /** The messages of a WebSocket connection, oldest first, as far as they were recorded. */
  _webSocketMessages?: HarWebSocketMessage[];
  /** The origin connection's TLS, in Chrome DevTools' shape. */
  _securityDetails?: HarSecurityDetails;
  /** What TLS negotiated with the client and with the origin (`flow.tls`), as recorded. */
  _tls?: FlowTls;
};

/** Chrome's `_securityDetails`: `protocol` like `TLS 1.3`, the IANA cipher name, the origin certificate's names and validity (epoch seconds). */
export interface HarSecurityDetails {
  protocol: string;
  cipher: string;
  subjectName?: string;
  sanList?: string[];
  issuer?: string;
  validFrom?: number;
  validTo?: number;
}

/** One WebSocket message in Chrome's HAR format: `time` in epoch seconds, `opcode` 1 text or 2 binary (`data` in base64). */
export type HarWebSocketMessage = NonNullable<Entry['_webSocketMessages']>[number] & {
  /** Only the start of the message was recorded (`recordBodyLimit`). */
  _truncated?: true;
};

/** The request as the proxy sent it on, after hooks. */
export type HarRequest = Omit<Request, 'postData'> & { postData?: HarPostData };

/**
 * A request body. Declared here rather than taken from har-format, whose `PostData` makes `text`
 * and `params` mutually exclusive (as the spec says): for a form body `mitm` writes both, as Chrome
 * DevTools does. This is also why `HarRequest`/`HarEntry`/`Har` omit and redeclare `request`, and
 * are not assignable to har-format's `Request`/`Entry`/`Har`.
 */
export type HarPostData = PostDataCommon & {
  /** Content-decoded; base64 when `encoding` says so. */
  text: string;
  /** Form fields, for `application/x-www-form-urlencoded` bodies. */
  params?: Param[];
  /** Set when the body is not UTF-8 text (not in HAR 1.2, so not in har-format). */
  encoding?: 'base64';
  /** The body was longer than `recordBodyLimit`; `text` holds its start only. */
  _truncated?: true;
};

/** The response as the proxy sent it to the client, after hooks. */
export type HarResponse = Response & { content: HarContent };

/** A response body, content-decoded. */
export type HarContent = Content & {
  /** The body was longer than `recordBodyLimit`; `text` holds its start only. */
  _truncated?: true;
};

/** Phases of the exchange in ms; `send` is always set, since the entry's `time` is computed from it. */
export type HarTimings = Timings & { send: number };
