import type { ErrorCode } from './errors.js';
import type { Flow } from './flow/flow.js';
import type { FlowTls } from './flow/tls-facts.js';

/** One request/response exchange as it ended: what the CLI prints one line for. */
export interface FlowRecord {
  /** Sequence number, unique within one proxy instance. */
  readonly id: number;
  readonly method: string;
  /** Absolute URL (`https://host/path` for intercepted requests). */
  readonly url: string;
  /** Status sent to the client; undefined when no response head could be sent. */
  readonly status: number | undefined;
  readonly contentType: string | undefined;
  /** Response body bytes forwarded to the client. */
  readonly responseBytes: number;
  /** From the request head's arrival to the last response byte written. */
  readonly durationMs: number;
  /** Set when the proxy answered with an error (502, 504...) or the exchange broke off. */
  readonly error: { readonly code: ErrorCode | 'aborted'; readonly message: string } | undefined;
  /** Address of the client connection the request came from, and the proxy user it authenticated as (`--proxy-auth`). */
  readonly client: { readonly address: string; readonly port: number; readonly user?: string };
  /** The kind of listener it came through: `regular`, `transparent` or `reverse` (docs/modes.md). */
  readonly mode: string;
  /** What TLS negotiated with the client and with the origin (`flow.tls`); absent when neither side spoke TLS. */
  readonly tls?: FlowTls | undefined;
}

/**
 * A CONNECT that was tunnelled untouched (no decryption), or one to an intercepted host whose
 * origin could not be dialled (`reason` 'intercept', `error` set: the client got 502/504).
 */
export interface TunnelRecord {
  readonly host: string;
  readonly port: number;
  readonly client: { readonly address: string; readonly port: number };
  /** The rule that made it a tunnel, e.g. `--passthrough *.apple.com`; 'intercept' for an intercepted host. */
  readonly reason: string;
  /** Set when the origin could not be reached (the client got 502/504 to its CONNECT). */
  readonly error: { readonly code: ErrorCode; readonly message: string } | undefined;
}

/** A client connection that ended badly before any request: TLS handshake failure, garbage bytes. */
export interface ClientIssue {
  readonly host: string | undefined;
  readonly client: { readonly address: string; readonly port: number };
  readonly code: 'client_tls' | 'bad_request' | 'headers_too_large';
  readonly message: string;
}

/**
 * A client rejected our certificate for a host (it pins, or does not trust our CA), and
 * `--auto-passthrough` now tunnels that client address's connections to it untouched.
 */
export interface AutoPassthroughRecord {
  readonly host: string;
  readonly port: number;
  readonly client: { readonly address: string; readonly port: number; readonly user?: string };
  /** How the client said no: a TLS alert (`unknown_ca`, `bad_certificate`, `certificate_unknown`) or a hang-up. */
  readonly reason: string;
  /** Epoch milliseconds when the pass-through is forgotten and interception is tried again. */
  readonly until: number;
}

/**
 * A hook that threw in an observe-only phase (`onError`, `onFlowEnd`), or an event listener of the
 * running proxy that threw or rejected (phase `listener`, `hook` naming the event): logged, never fatal.
 */
export interface HookFault {
  readonly hook: string;
  readonly phase: 'onError' | 'onFlowEnd' | 'listener';
  readonly message: string;
}

/**
 * A client connection turned away as it was accepted: from outside `--allow-client`, or beyond
 * `--max-connections` / `--max-client-connections` (HTTP clients got `503`, others a closed socket).
 */
export interface ClientRefusal {
  readonly client: { readonly address: string; readonly port: number };
  /** The kind of listener it reached (`regular`, `transparent`, `reverse`, `metrics`). */
  readonly mode: string;
  readonly reason: 'client_not_allowed' | 'max_connections' | 'max_client_connections';
}

/** The events a running proxy emits; the core never prints, the CLI subscribes. */
export interface ProxyEventMap {
  /**
   * An exchange ended: its summary (plain data, what the log line shows), and the finished Flow
   * itself (headers, recorded bodies, timings, tags), the object `proxy.flows` keeps. The Flow is
   * absent for a request refused before it became a flow (bad request, proxy auth) and for the CA download page.
   */
  flow: [record: FlowRecord, flow?: Flow];
  tunnel: [TunnelRecord];
  'client-issue': [ClientIssue];
  /** `--auto-passthrough` started tunnelling a client→host pair after the client rejected our certificate. */
  'auto-passthrough': [AutoPassthroughRecord];
  /** A hook threw in an observe-only phase (onError, onFlowEnd), or a listener of another event threw; the proxy went on. */
  'hook-fault': [HookFault];
  /** A client connection was refused as it was accepted (--allow-client, connection limits). */
  'client-refused': [ClientRefusal];
  /** Writing to the `store` failed (disk full, file removed): those flows are lost, the proxy went on. */
  'store-error': [StoreErrorRecord];
}

/** A failed write to the flow store (`--store`). */
export interface StoreErrorRecord {
  /** The store file. */
  readonly file: string;
  /** `store_failed`, naming the file and the reason. */
  readonly code: string;
  readonly message: string;
}
