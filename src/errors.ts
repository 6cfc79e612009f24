/**
 * Every error `mitm` raises on purpose carries a stable code from this table. The code is what
 * scripts match on: it is sent to clients in the `x-mitm-error` header and documented in
 * docs/errors.md. Messages may change; codes do not.
 */
export const ERROR_CODES = {
  config_invalid: { status: undefined, summary: 'An option has an invalid value' },
  ca_missing: { status: undefined, summary: 'The CA folder lacks ca.pem or ca-key.pem' },
  ca_unreadable: { status: undefined, summary: 'A CA file exists but cannot be read' },
  ca_invalid: { status: undefined, summary: 'A CA file is corrupt, not a CA, expired, or does not match its key' },
  host_invalid: { status: 400, summary: 'The target host name or port is not acceptable' },
  bad_request: { status: 400, summary: 'The client sent a malformed HTTP request' },
  headers_too_large: { status: 431, summary: 'The request head exceeds the header size limit' },
  not_a_proxy_request: { status: 400, summary: 'A request for a relative URL reached the proxy port' },
  loop: { status: 508, summary: 'The request targets the proxy itself' },
  too_many_connections: { status: 503, summary: 'The proxy is at its connection limit (--max-connections, --max-client-connections)' },
  ca_key_insecure: { status: undefined, summary: 'ca-key.pem is readable by group or others (chmod 600 it, or --allow-insecure-key)' },
  proxy_auth_required: { status: 407, summary: 'The client sent no valid proxy credentials (--proxy-auth)' },
  upstream_dns: { status: 502, summary: 'The origin host name could not be resolved' },
  upstream_refused: { status: 502, summary: 'The origin refused the TCP connection' },
  upstream_unreachable: { status: 502, summary: 'No route to the origin host or network' },
  upstream_reset: { status: 502, summary: 'The origin closed or reset the connection before answering' },
  upstream_tls_verify: { status: 502, summary: "The origin's certificate failed verification" },
  upstream_tls: { status: 502, summary: 'The TLS handshake with the origin failed' },
  upstream_timeout: { status: 504, summary: 'The origin did not answer in time' },
  upstream_proxy_failed: { status: 502, summary: 'The upstream proxy could not be reached or would not open a tunnel' },
  hook_failed: { status: 500, summary: 'A hook threw while handling the request or response' },
  body_too_large: { status: 500, summary: 'A hook asked for a body larger than --max-body-buffer' },
  body_undecodable: { status: 500, summary: 'A hook asked for a body whose content-encoding cannot be decoded' },
  body_consumed: { status: 500, summary: 'A body was read after it had been streamed on unread' },
  injected_failure: { status: 502, summary: 'A failRequests hook (--fail) failed the request on purpose' },
  injected_reset: { status: undefined, summary: "A hook (flow.reset(), --fail …,reset) reset the client's connection on purpose" },
  body_not_recorded: { status: undefined, summary: "A finished flow's body was read, but it was not recorded whole" },
  connect_rejected: { status: 403, summary: 'An onConnect hook rejected the CONNECT' },
  replay_unmatched: { status: 404, summary: 'No recorded response matches the request (--serve-from with --replay-unmatched 404)' },
  blocked: { status: 403, summary: 'A blockHosts or blockRequests hook (--block) refused a request' },
  hook_load_failed: { status: undefined, summary: 'A --hook file could not be loaded or exports no valid hook' },
  wait_timeout: { status: undefined, summary: 'proxy.waitForFlow() saw no matching flow in time' },
  listen_failed: { status: undefined, summary: 'The proxy could not listen on its address' },
  har_write_failed: { status: undefined, summary: 'A HAR file could not be written' },
  filter_invalid: { status: 400, summary: 'A flow filter (docs/filters.md) does not parse' },
  store_unavailable: {
    status: undefined,
    summary: 'The SQLite driver (better-sqlite3) could not be loaded, so no flow store can be opened',
  },
  store_invalid: { status: undefined, summary: 'A store file is not a mitm store, or was written by a newer mitm' },
  store_failed: { status: undefined, summary: 'A flow store could not be opened, written or read' },
  breakpoint_aborted: { status: 502, summary: 'A flow held at a breakpoint was aborted (in the inspector, or by held.abort())' },
  breakpoint_timeout: { status: 504, summary: 'A flow held at a breakpoint was not released in time (--break-timeout)' },
  breakpoint_edit_invalid: {
    status: undefined,
    summary: 'An edit to a held flow (resume, answer) is not valid: bad method, URL, status or header',
  },
  replay_failed: { status: undefined, summary: 'proxy.replay() could not send a recorded flow again through the proxy' },
  breakpoint_not_held: { status: undefined, summary: 'The flow is not (or no longer) held at a breakpoint' },
} as const satisfies Record<string, { status: number | undefined; summary: string }>;

/** A stable error code; see docs/errors.md. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The base of every deliberate `mitm` error: a stable `code` and a one-line, secret-free message. */
export class MitmError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MitmError';
    this.code = code;
  }

  /** The HTTP status a client receives for this error, when one can be sent. */
  get status(): number {
    return ERROR_CODES[this.code].status ?? 500;
  }
}

/** True for errors raised by `mitm`, also across duplicate copies of the package (checks shape, not class). */
export function isMitmError(value: unknown): value is MitmError {
  if (!(value instanceof Error)) return false;
  const code: unknown = (value as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** The header that carries an error's stable code to the client (see docs/errors.md). */
export const ERROR_HEADER = 'x-mitm-error';
