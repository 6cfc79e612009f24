import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import * as z from 'zod/mini';
import { isMitmError } from '../errors.js';
import { parseCidr } from '../net/cidr.js';
import { parseResolveEntry } from '../net/resolve-map.js';
import { parseListenAddress } from './listen-address.js';
import { ipLiteral, parseDnsUpstream, parseMode } from './modes.js';
import { DEFAULT_REPLAY_MATCH, parseReplayMatch } from './replay-match.js';
import { parseUpstreamProxy, validateBypass } from './upstream-proxy.js';

// The options are declared with zod/mini's functional API: the same core (so the same checks and
// messages) as zod's classic API, which gave every schema instance its own ~40 methods and made
// building these ~60 options 15-40 ms of every start (docs/performance.md, "Start-up", round four).

/** What `--help` shows of an option: `arg` names its value (`--port N`), `description` says what it does. */
export interface OptionHelp {
  readonly arg?: string;
  readonly description: string;
}

/**
 * `schema` with its help text, kept in zod's global registry, where src/cli/flags.ts reads it. It
 * registers `schema` itself: give it a schema made for this option (a `clone()` of a shared one).
 */
export function described<T extends z.ZodMiniType>(schema: T, help: OptionHelp): T {
  z.globalRegistry.add(schema, { ...help });
  return schema;
}

/** A string that must not be empty. */
export const nonEmpty = (): z.ZodMiniString<string> => z.string().check(z.minLength(1));

/** An integer option (`z.int()`: a safe integer) with these bounds. */
export const integer = (...checks: Array<z.core.$ZodCheck<number>>): z.ZodMiniNumberFormat => z.int().check(...checks);

/** A repeatable option: a list of `item` (non-empty strings unless given), empty by default. */
export const list = <T extends z.ZodMiniType<string, string>>(item: T): z.ZodMiniDefault<z.ZodMiniArray<T>> =>
  z._default(z.array(item), []);

/** An on/off option, off unless `on`. */
export const flag = (on = false): z.ZodMiniDefault<z.ZodMiniBoolean<boolean>> => z._default(z.boolean(), on);

/** A string checked by one of our parsers (`parseMode`...), whose MitmError message becomes the issue. */
const checked = (check: (value: string) => unknown): z.ZodMiniString<string> => z.string().check(z.superRefine(checkWith(check)));

// A byte count as a number, or as text with an optional k, m or g suffix (1024-based, like the
// filter language's sizes): `8m`, `512k`, `1.5g`, `65536`.
const SIZE_TEXT = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i;
const sizeOption = z.pipe(
  z.union([integer(z.nonnegative()), z.string().check(z.regex(SIZE_TEXT, 'expected a size such as 65536, 512k, 8m or 2g'))]),
  z.transform((value: number | string) => (typeof value === 'number' ? value : parseSize(value))),
);

/** Parses `8m`, `512k`, `1.5g` or `65536` into bytes (suffixes are 1024-based); NaN when it is not a size. */
export function parseSize(text: string): number {
  const match = SIZE_TEXT.exec(text);
  if (!match) return Number.NaN;
  const power = ['', 'k', 'm', 'g'].indexOf((match[2] ?? '').toLowerCase());
  return Math.floor(Number(match[1]) * 1024 ** power);
}

/**
 * Every option of the proxy, declared once. The library's `startProxy(options)` validates against
 * it, and the CLI derives its flags and `--help` text from it (see src/cli/flags.ts), so a default
 * or a description lives in exactly one place. `arg` names the value in `--help`.
 */
export const ProxyOptionsSchema = z.strictObject({
  ca: described(
    z._default(nonEmpty(), () => defaultCaDir()),
    {
      arg: 'DIR',
      description:
        'CA folder holding ca.pem and ca-key.pem; created with a new root CA when missing (by default the per-user folder $XDG_CONFIG_HOME/mitm, else ~/.mitm)',
    },
  ),
  host: described(z._default(nonEmpty(), '127.0.0.1'), {
    arg: 'ADDR',
    description: 'Address to listen on; a non-loopback one (0.0.0.0 accepts other machines) needs --allow-client or --proxy-auth',
  }),
  port: described(z._default(integer(z.minimum(0), z.maximum(65535)), 8080), {
    arg: 'N',
    description: 'Port to listen on; 0 picks a free port',
  }),
  mode: described(list(nonEmpty().check(z.superRefine(checkWith(parseMode)))), {
    arg: 'MODE',
    description:
      'A listener: regular[@[HOST:]PORT], transparent@[HOST:]PORT[:ORIGINPORT], reverse:URL@[HOST:]PORT or dns@[HOST:]PORT (repeatable; default: regular on --host/--port; docs/modes.md)',
  }),
  ui: described(flag(), { description: 'Serve the web inspector (docs/ui.md); its URL with the access token is printed at start' }),
  uiHost: described(z._default(nonEmpty(), '127.0.0.1'), { arg: 'ADDR', description: 'Address the web inspector listens on' }),
  uiPort: described(z._default(integer(z.minimum(0), z.maximum(65535)), 8081), {
    arg: 'N',
    description: 'Port the web inspector listens on; 0 picks a free port',
  }),
  break: described(list(z.string()), {
    arg: 'FILTER',
    description:
      'Hold requests this filter matches (docs/filters.md) until resumed, aborted or answered in the inspector (--ui) (repeatable)',
  }),
  breakResponse: described(list(z.string()), {
    arg: 'FILTER',
    description: 'Hold responses this filter matches before they go to the client, as --break does requests (repeatable)',
  }),
  // Node's timers hold at most 2^31-1 ms (longer ones fire at once); a day is plenty.
  breakTimeout: described(z._default(integer(z.positive(), z.maximum(24 * 3600_000)), 5 * 60_000), {
    arg: 'MS',
    description: 'A flow held at a breakpoint longer than this fails with 504 breakpoint_timeout (at most a day)',
  }),
  keepHost: described(flag(), { description: "Reverse listeners: send the client's Host header on instead of the origin's" }),
  dnsAnswer: described(z.optional(checked(ipLiteral)), {
    arg: 'ADDR',
    description: "DNS listeners: the address answered for intercepted names (default: the transparent listener's)",
  }),
  dnsUpstream: described(z.optional(checked(parseDnsUpstream)), {
    arg: 'ADDR[:PORT]',
    description: "DNS listeners: the resolver other queries go to (default: the system's first)",
  }),
  passthrough: described(list(nonEmpty()), {
    arg: 'GLOB',
    description: 'Tunnel matching hosts untouched, without decryption (repeatable)',
  }),
  intercept: described(list(nonEmpty()), { arg: 'GLOB', description: 'Decrypt only matching hosts and tunnel all others (repeatable)' }),
  insecure: described(flag(), { description: "Do not verify origin certificates (dangerous: hides the origin's identity)" }),
  upstreamCa: described(list(nonEmpty()), {
    arg: 'FILE',
    description: 'Also trust the CA certificates in this PEM file for origins (repeatable)',
  }),
  upstreamTimeout: described(z._default(integer(z.positive()), 30_000), {
    arg: 'MS',
    description: 'Time allowed to connect to an origin and receive its response head',
  }),
  maxOriginConnections: described(z._default(integer(z.positive()), 128), {
    arg: 'N',
    description:
      'Most simultaneous connections to one origin; further requests wait (HTTP/1.1 requests with a chunked body, Expect or Upgrade have a pool of their own)',
  }),
  maxBodyBuffer: described(z._default(integer(z.nonnegative()), 16 * 2 ** 20), {
    arg: 'BYTES',
    description: 'Largest body a hook may read or replace in memory; larger ones stream unread',
  }),
  keep: described(z._default(integer(z.nonnegative()), 1000), {
    arg: 'N',
    description: 'Flows kept in memory for proxy.flows and --har; the oldest are dropped first',
  }),
  recordBodyLimit: described(z._default(integer(z.nonnegative()), 64 * 2 ** 10), {
    arg: 'BYTES',
    description: 'Bytes of each request and response body kept with a recorded flow',
  }),
  store: described(z.optional(nonEmpty()), {
    arg: 'FILE',
    description: 'Also write every finished flow to this SQLite store (created when missing; docs/store.md)',
  }),
  storeBodyLimit: described(z.prefault(sizeOption, 8 * 2 ** 20), {
    arg: 'SIZE',
    description: 'Bytes of each body the store keeps (suffixes k, m, g, 1024-based); longer ones are cut and marked cut',
  }),
  storeMaxSize: described(z.optional(sizeOption), {
    arg: 'SIZE',
    description: 'Delete the oldest stored flows once the store holds more than SIZE (default: unlimited)',
  }),
  hook: described(list(nonEmpty()), {
    arg: 'FILE',
    description:
      'Load hooks from a JavaScript or TypeScript module (.mjs, .js, .ts, .mts...) whose default export is a hook or an array of hooks; relative to the working directory (repeatable)',
  }),
  // Stock hooks as options (src/proxy/flag-hooks.ts builds and checks them; docs/cli.md).
  setHeader: described(list(nonEmpty()), {
    arg: '[FILTER:]SIDE:NAME=VALUE',
    description:
      'Set a header on the request (SIDE req) or the response (SIDE res) on flows FILTER matches (all when left out); an empty VALUE removes it (repeatable)',
  }),
  mapRemote: described(list(nonEmpty()), {
    arg: 'FROM_URL=TO_URL',
    description: "Send requests under FROM_URL to TO_URL instead (a prefix, or a glob whose *s fill TO_URL's) (repeatable)",
  }),
  mapLocal: described(list(nonEmpty()), {
    arg: 'URL_PREFIX=PATH',
    description: 'Answer requests under URL_PREFIX from the file or folder PATH (repeatable)',
  }),
  block: described(list(nonEmpty()), {
    arg: 'FILTER',
    description: 'Answer flows FILTER matches with 403 and x-mitm-error: blocked, without contacting the origin (repeatable)',
  }),
  fail: described(list(nonEmpty()), {
    arg: '[FILTER:]SHARE[,KIND]',
    description:
      'Fail a share (10%, 0.5) of the flows FILTER matches on purpose; KIND 502 (default) answers at once, timeout answers 504 after --upstream-timeout, reset resets the connection (HTTP/2: the stream) (repeatable)',
  }),
  mock: described(list(nonEmpty()), {
    arg: 'FILTER=STATUS[:FILE]',
    description:
      "Answer flows FILTER matches with STATUS and FILE's content (empty without FILE), without contacting the origin (repeatable)",
  }),
  throttle: described(list(nonEmpty()), {
    arg: '[FILTER:]RATE[,latency=MS]',
    description:
      'Slow flows FILTER matches to RATE bits per second each way per connection (256k, 2m; presets 3g, slow-3g, offline), each request delayed by MS (repeatable)',
  }),
  // Server replay (docs/replay.md): requests answered from a recording instead of the origin.
  serveFrom: described(z.optional(nonEmpty()), {
    arg: 'FILE',
    description:
      'Answer requests that match a recorded one from FILE (a HAR or a --store file) without contacting the origin; identical requests get the recorded answers in order, then the last again',
  }),
  replayMatch: described(z._default(checked(parseReplayMatch), DEFAULT_REPLAY_MATCH), {
    arg: 'PARTS',
    description:
      'What --serve-from compares: a comma list of method, url (scheme, host, port, path, query in any order), body, headers, header:NAME',
  }),
  replayIgnoreParam: described(list(nonEmpty()), {
    arg: 'NAME',
    description: 'Leave this query parameter (and form or JSON body field) out of --serve-from matching (repeatable)',
  }),
  replayIgnoreHeader: described(list(nonEmpty()), {
    arg: 'NAME',
    description: 'Leave this request header out of --serve-from matching when --replay-match includes headers (repeatable)',
  }),
  replayUnmatched: described(z._default(z.enum(['forward', '404']), 'forward'), {
    arg: 'ACTION',
    description: 'What --serve-from does with a request no recording matches: forward it to the origin, or answer 404 (replay_unmatched)',
  }),
  leafCacheSize: described(z._default(integer(z.positive()), 1000), {
    arg: 'N',
    description: 'Minted per-host certificates kept ready in memory',
  }),
  leafKey: described(z._default(z.enum(['ec', 'rsa']), 'ec'), {
    arg: 'TYPE',
    description:
      'Key type of minted per-host certificates: ec (ECDSA P-256, cheaper TLS handshakes) or rsa (RSA-2048, for clients without ECDSA)',
  }),
  upstreamProxy: described(z.optional(nonEmpty().check(z.superRefine(checkWith(parseUpstreamProxy)))), {
    arg: 'URL',
    description:
      'Send every origin connection through this proxy: http://[user:pass@]host:port, https://… (CONNECT; absolute URLs for plain HTTP) or socks5://, socks5h://…',
  }),
  upstreamBypass: described(z.optional(checked(validateBypass)), {
    arg: 'LIST',
    description:
      'Hosts dialled directly despite --upstream-proxy, NO_PROXY style: comma-separated names (with subdomains), globs, IPs, CIDRs, host:port, or *',
  }),
  resolve: described(list(checked(parseResolveEntry)), {
    arg: 'NAME=ADDR',
    description:
      'Connect to ADDR (an IPv4/IPv6 address) for origin NAME (a host name or glob such as *.test) without a DNS lookup; SNI and certificate checks still use NAME. With --upstream-proxy the name goes to that proxy as before (repeatable; exact names win over globs, then the first glob given)',
  }),
  proxyAuth: described(list(z.string().check(z.regex(/^[^:]+:/, 'expected USER:PASSWORD'))), {
    arg: 'USER:PASS',
    description: 'Require proxy credentials (HTTP Basic, SOCKS5 username/password); each use adds a user (repeatable)',
  }),
  proxyAuthFile: described(z.optional(nonEmpty()), {
    arg: 'FILE',
    description: 'Require proxy credentials from an htpasswd file: bcrypt ($2y$), {SHA} or plain user:password lines',
  }),
  // Exposure, limits, loops and metrics (docs/security.md, README "Limits").
  allowClient: described(list(checked(parseCidr)), {
    arg: 'CIDR',
    description:
      'Accept client connections only from these addresses (10.0.0.0/8, 192.168.1.7, ::1/128); others are closed. Required, or --proxy-auth, to listen on a non-loopback address (repeatable)',
  }),
  allowInsecureKey: described(flag(), {
    description: 'Start even when ca-key.pem is readable by group or others (otherwise refused: chmod 600 it)',
  }),
  via: described(flag(true), {
    description:
      'Add a Via header (RFC 9110 §7.6.3) to forwarded requests and answer requests that already passed this proxy with 508; --no-via turns it off',
  }),
  maxConnections: described(z.optional(integer(z.positive())), {
    arg: 'N',
    description:
      'Most client connections open at once; beyond it HTTP clients get 503 and other sockets are closed (default: sized under the open-file limit, at most 10000)',
  }),
  maxClientConnections: described(z.optional(integer(z.positive())), {
    arg: 'N',
    description: 'Most connections open at once from one client address (default: no limit beyond --max-connections)',
  }),
  maxHeaderSize: described(z._default(integer(z.minimum(1024)), 16 * 1024), {
    arg: 'BYTES',
    description: "Largest HTTP/1.x request line and header block; beyond it 431 (Node's default)",
  }),
  maxHeaders: described(z._default(integer(z.positive()), 100), {
    arg: 'N',
    description: "Most header fields in a request; beyond it 431 (as Apache's LimitRequestFields)",
  }),
  headersTimeout: described(z._default(integer(z.positive()), 60_000), {
    arg: 'MS',
    description: 'Time a client has to send a complete request head',
  }),
  idleTimeout: described(z._default(integer(z.positive()), 60_000), {
    arg: 'MS',
    description: 'An idle keep-alive client connection is closed after this long',
  }),
  maxRequestsPerConnection: described(z._default(integer(z.nonnegative()), 1000), {
    arg: 'N',
    description: "Requests served on one HTTP/1.1 client connection before it is closed (nginx's keepalive_requests); 0 = no limit",
  }),
  metrics: described(z.optional(checked(parseListenAddress)), {
    arg: '[HOST:]PORT',
    description: 'Serve Prometheus metrics (GET /metrics) and GET /healthz on this address (HOST defaults to 127.0.0.1)',
  }),
  clientCert: described(list(z.string().check(z.regex(/^[^=]+=.+$/, 'expected HOSTGLOB=FILE'))), {
    arg: 'HOSTGLOB=FILE',
    description:
      'Client certificate for matching origins that ask for one (mTLS): FILE is PEM with certificate and key, or .p12/.pfx (repeatable)',
  }),
  clientCertPassphrase: described(z.optional(z.string()), {
    arg: 'PASS',
    description: 'Passphrase of the --client-cert files (encrypted PEM keys, .p12/.pfx)',
  }),
  autoPassthrough: described(flag(), {
    description: 'Tunnel a client→host pair untouched for 10 minutes after that client rejects our certificate (pinning apps)',
  }),
});

/**
 * The CA folder used when none is given: one per user, whatever the working directory, so every
 * `mitm start` and every harness shares the root CA the user installed once (mitmproxy keeps its
 * in ~/.mitmproxy). `$XDG_CONFIG_HOME/mitm` when that variable holds an absolute path (the XDG
 * Base Directory rule), else `~/.mitm`.
 */
export function defaultCaDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  return xdg !== undefined && isAbsolute(xdg) ? join(xdg, 'mitm') : join(homedir(), '.mitm');
}

/** A zod refinement that runs `check` on the value and reports its MitmError message as the issue. */
function checkWith(check: (value: string) => unknown): (value: string, ctx: z.core.$RefinementCtx<string>) => void {
  return (value, ctx) => {
    try {
      check(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: isMitmError(error) ? error.message : String(error) });
    }
  };
}

/** Options of the command line only: how `mitm start` reports what it sees. */
export const CliOptionsSchema = z.extend(ProxyOptionsSchema, {
  quiet: described(flag(), { description: 'Print only the listening line and errors, not each flow' }),
  flowDetail: described(z._default(integer(z.minimum(0), z.maximum(4)), 1), {
    arg: 'N',
    description:
      'What is printed per flow: 0 nothing, 1 one line, 2 + headers, 3 + bodies, 4 + connection, timings, and WebSocket messages and server-sent events as they pass',
  }),
  detailBodyLimit: described(z._default(integer(z.nonnegative()), 2048), {
    arg: 'BYTES',
    description: 'Bytes of each body printed at --flow-detail 3 and up (JSON pretty-printed, binary as size and type)',
  }),
  logFilter: described(z.optional(z.string()), {
    arg: 'FILTER',
    description: "Print only flows this filter matches (docs/filters.md), e.g. '-host:*.googleapis.com'; recording is unaffected",
  }),
  logFormat: described(z._default(z.enum(['pretty', 'json']), 'pretty'), {
    arg: 'FORMAT',
    description: 'How flows are printed: pretty (one line each) or json (one object per line)',
  }),
  // CLI only: the library hands out the same data as proxy.har().
  har: described(z.optional(nonEmpty()), {
    arg: 'FILE',
    description: 'Write the recorded flows to FILE as HAR 1.2 on exit and on SIGUSR2 (last --keep flows)',
  }),
});

/** What a caller of `startProxy` may pass: every field optional. */
export type ProxyOptions = z.input<typeof ProxyOptionsSchema>;
/** The validated, defaulted and frozen options the proxy reads. */
export type ProxyConfig = Readonly<z.output<typeof ProxyOptionsSchema>>;
/** The validated options of `mitm start`. */
export type CliConfig = Readonly<z.output<typeof CliOptionsSchema>>;
