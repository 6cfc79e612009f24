/**
 * The subset of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) that `mitm` writes.
 * Fields starting with `_` are custom fields, which the spec allows and importers such as Chrome
 * DevTools ignore. Sizes are in bytes and times in milliseconds; -1 means "not known".
 */

/** A HAR file: one log. */
export interface Har {
  log: HarLog;
}

/** The root of the recorded data. */
export interface HarLog {
  version: '1.2';
  creator: HarCreator;
  /** Always empty: a proxy sees requests, not page loads. */
  pages: HarPage[];
  /** Oldest request first. */
  entries: HarEntry[];
}

/** The application that wrote the log. */
export interface HarCreator {
  name: string;
  version: string;
}

/** A page load; never written by `mitm`, declared so `pages` has an element type. */
export interface HarPage {
  startedDateTime: string;
  id: string;
  title: string;
  pageTimings: { onContentLoad?: number; onLoad?: number };
}

/** One request/response exchange. */
export interface HarEntry {
  /** ISO 8601 time the request head reached the proxy. */
  startedDateTime: string;
  /** Total time: the sum of the non-negative `timings`. */
  time: number;
  request: HarRequest;
  response: HarResponse;
  /** The proxy keeps no cache, so there is nothing to say. */
  cache: Record<string, never>;
  timings: HarTimings;
  /** The origin's address as connected; absent when a hook answered. */
  serverIPAddress?: string;
  /** The client connection the request arrived on (several entries share one under keep-alive). */
  connection: string;
  /** Why the exchange failed; the response then has status 0. */
  _error?: { code: string; message: string };
  /** `flow.tags`, e.g. `mocked`. */
  _tags: string[];
  /** `websocket` for an upgraded connection, as Chrome marks it (DevTools then shows its messages). */
  _resourceType?: 'websocket';
  /** The messages of a WebSocket connection, oldest first, as far as they were recorded. */
  _webSocketMessages?: HarWebSocketMessage[];
}

/** One WebSocket message in Chrome's HAR format. */
export interface HarWebSocketMessage {
  /** `send`: client to server; `receive`: server to client. */
  type: 'send' | 'receive';
  /** When the proxy passed it on, in epoch seconds. */
  time: number;
  /** 1 text, 2 binary. */
  opcode: 1 | 2;
  /** The text, or the binary payload in base64. */
  data: string;
  /** Only the start of the message was recorded (`recordBodyLimit`). */
  _truncated?: true;
}

/** A name/value pair: a header, query parameter or form field. */
export interface HarNameValue {
  name: string;
  value: string;
}

/** A cookie from a Cookie or Set-Cookie header. */
export interface HarCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  /** ISO 8601. */
  expires?: string;
  httpOnly?: boolean;
  secure?: boolean;
}

/** The request as the proxy sent it on, after hooks. */
export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: HarCookie[];
  /** In wire order. */
  headers: HarNameValue[];
  queryString: HarNameValue[];
  postData?: HarPostData;
  headersSize: -1;
  /** Body bytes as sent (still content-encoded); -1 when unknown. */
  bodySize: number;
}

/** A request body. */
export interface HarPostData {
  mimeType: string;
  /** Content-decoded; base64 when `encoding` says so. */
  text: string;
  /** Set when the body is not UTF-8 text. */
  encoding?: 'base64';
  /** Form fields, for `application/x-www-form-urlencoded` bodies. */
  params?: HarNameValue[];
  comment?: string;
  /** The body was longer than `recordBodyLimit`; `text` holds its start only. */
  _truncated?: true;
}

/** The response as the proxy sent it to the client, after hooks. */
export interface HarResponse {
  /** 0 when no response was received (see the entry's `_error`). */
  status: number;
  statusText: string;
  /** `HTTP/1.1`, or empty when there was no response. */
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  content: HarContent;
  /** The Location header, or empty. */
  redirectURL: string;
  headersSize: -1;
  /** Body bytes as sent (still content-encoded); -1 when unknown. */
  bodySize: number;
}

/** A response body, content-decoded. */
export interface HarContent {
  /** Decoded length in bytes (of the whole body when known, else of what was recorded). */
  size: number;
  /** Bytes saved by the content-encoding, when known. */
  compression?: number;
  mimeType: string;
  text?: string;
  encoding?: 'base64';
  /** Why `text` is missing or partial. */
  comment?: string;
  /** The body was longer than `recordBodyLimit`; `text` holds its start only. */
  _truncated?: true;
}

/** Phases of the exchange in ms; -1 for phases the proxy does not measure. */
export interface HarTimings {
  blocked: -1;
  dns: -1;
  connect: -1;
  ssl: -1;
  /** From the request head's arrival until it was handed to the origin (or a hook answered). */
  send: number;
  /** From then until the response head arrived. */
  wait: number;
  /** From then until the last response byte went to the client. */
  receive: number;
}
