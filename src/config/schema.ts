import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { isMitmError } from '../errors.js';
import { parseResolveEntry } from '../net/resolve-map.js';
import { ipLiteral, parseDnsUpstream, parseMode } from './modes.js';
import { parseUpstreamProxy, validateBypass } from './upstream-proxy.js';

/**
 * Every option of the proxy, declared once. The library's `startProxy(options)` validates against
 * it, and the CLI derives its flags and `--help` text from it (see src/cli/flags.ts), so a default
 * or a description lives in exactly one place. `arg` names the value in `--help`.
 */
export const ProxyOptionsSchema = z
  .object({
    ca: z
      .string()
      .min(1)
      .default(() => defaultCaDir())
      .meta({
        arg: 'DIR',
        description: 'CA folder holding ca.pem and ca-key.pem; created with a new root CA when missing (by default the per-user folder $XDG_CONFIG_HOME/mitm, else ~/.mitm)',
      }),
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .meta({ arg: 'ADDR', description: 'Address to listen on (use 0.0.0.0 to accept other machines)' }),
    port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(8080)
      .meta({ arg: 'N', description: 'Port to listen on; 0 picks a free port' }),
    mode: z
      .array(z.string().min(1).superRefine(checkWith(parseMode)))
      .default([])
      .meta({
        arg: 'MODE',
        description:
          'A listener: regular[@[HOST:]PORT], transparent@[HOST:]PORT[:ORIGINPORT], reverse:URL@[HOST:]PORT or dns@[HOST:]PORT (repeatable; default: regular on --host/--port; docs/modes.md)',
      }),
    keepHost: z
      .boolean()
      .default(false)
      .meta({ description: "Reverse listeners: send the client's Host header on instead of the origin's" }),
    dnsAnswer: z
      .string()
      .optional()
      .superRefine(checkWith(ipLiteral))
      .meta({ arg: 'ADDR', description: "DNS listeners: the address answered for intercepted names (default: the transparent listener's)" }),
    dnsUpstream: z
      .string()
      .optional()
      .superRefine(checkWith(parseDnsUpstream))
      .meta({ arg: 'ADDR[:PORT]', description: "DNS listeners: the resolver other queries go to (default: the system's first)" }),
    passthrough: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'GLOB', description: 'Tunnel matching hosts untouched, without decryption (repeatable)' }),
    intercept: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'GLOB', description: 'Decrypt only matching hosts and tunnel all others (repeatable)' }),
    insecure: z
      .boolean()
      .default(false)
      .meta({ description: "Do not verify origin certificates (dangerous: hides the origin's identity)" }),
    upstreamCa: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'FILE', description: 'Also trust the CA certificates in this PEM file for origins (repeatable)' }),
    upstreamTimeout: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .meta({ arg: 'MS', description: 'Time allowed to connect to an origin and receive its response head' }),
    maxOriginConnections: z
      .number()
      .int()
      .positive()
      .default(128)
      .meta({ arg: 'N', description: 'Most simultaneous connections to one origin; further requests wait (HTTP/1.1 requests with a chunked body, Expect or Upgrade have a pool of their own)' }),
    maxBodyBuffer: z
      .number()
      .int()
      .nonnegative()
      .default(16 * 2 ** 20)
      .meta({ arg: 'BYTES', description: 'Largest body a hook may read or replace in memory; larger ones stream unread' }),
    keep: z
      .number()
      .int()
      .nonnegative()
      .default(1000)
      .meta({ arg: 'N', description: 'Flows kept in memory for proxy.flows and --har; the oldest are dropped first' }),
    recordBodyLimit: z
      .number()
      .int()
      .nonnegative()
      .default(64 * 2 ** 10)
      .meta({ arg: 'BYTES', description: 'Bytes of each request and response body kept with a recorded flow' }),
    hook: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'FILE', description: 'Load hooks from a JavaScript or TypeScript module (.mjs, .js, .ts, .mts...) whose default export is a hook or an array of hooks; relative to the working directory (repeatable)' }),
    // Stock hooks as options (src/proxy/flag-hooks.ts builds and checks them; docs/cli.md).
    setHeader: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: '[FILTER:]SIDE:NAME=VALUE', description: 'Set a header on the request (SIDE req) or the response (SIDE res) on flows FILTER matches (all when left out); an empty VALUE removes it (repeatable)' }),
    mapRemote: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'FROM_URL=TO_URL', description: "Send requests under FROM_URL to TO_URL instead (a prefix, or a glob whose *s fill TO_URL's) (repeatable)" }),
    mapLocal: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'URL_PREFIX=PATH', description: 'Answer requests under URL_PREFIX from the file or folder PATH (repeatable)' }),
    block: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'FILTER', description: 'Answer flows FILTER matches with 403 and x-mitm-error: blocked, without contacting the origin (repeatable)' }),
    fail: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: '[FILTER:]SHARE[,KIND]', description: 'Fail a share (10%, 0.5) of the flows FILTER matches on purpose; KIND 502 (default) answers at once, timeout answers 504 after --upstream-timeout (repeatable)' }),
    mock: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'FILTER=STATUS[:FILE]', description: "Answer flows FILTER matches with STATUS and FILE's content (empty without FILE), without contacting the origin (repeatable)" }),
    throttle: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: '[FILTER:]RATE[,latency=MS]', description: 'Slow flows FILTER matches to RATE bits per second each way per connection (256k, 2m; presets 3g, slow-3g, offline), each request delayed by MS (repeatable)' }),
    leafCacheSize: z
      .number()
      .int()
      .positive()
      .default(1000)
      .meta({ arg: 'N', description: 'Minted per-host certificates kept ready in memory' }),
    leafKey: z
      .enum(['ec', 'rsa'])
      .default('ec')
      .meta({ arg: 'TYPE', description: 'Key type of minted per-host certificates: ec (ECDSA P-256, cheaper TLS handshakes) or rsa (RSA-2048, for clients without ECDSA)' }),
    upstreamProxy: z
      .string()
      .min(1)
      .optional()
      .superRefine(checkWith(parseUpstreamProxy))
      .meta({
        arg: 'URL',
        description:
          'Send every origin connection through this proxy: http://[user:pass@]host:port, https://… (CONNECT; absolute URLs for plain HTTP) or socks5://, socks5h://…',
      }),
    upstreamBypass: z
      .string()
      .optional()
      .superRefine(checkWith(validateBypass))
      .meta({
        arg: 'LIST',
        description: 'Hosts dialled directly despite --upstream-proxy, NO_PROXY style: comma-separated names (with subdomains), globs, IPs, CIDRs, host:port, or *',
      }),
    resolve: z
      .array(z.string().superRefine(checkWith(parseResolveEntry)))
      .default([])
      .meta({
        arg: 'NAME=ADDR',
        description:
          "Connect to ADDR (an IPv4/IPv6 address) for origin NAME (a host name or glob such as *.test) without a DNS lookup; SNI and certificate checks still use NAME. With --upstream-proxy the name goes to that proxy as before (repeatable; exact names win over globs, then the first glob given)",
      }),
    proxyAuth: z
      .array(z.string().regex(/^[^:]+:/, 'expected USER:PASSWORD'))
      .default([])
      .meta({ arg: 'USER:PASS', description: 'Require proxy credentials (HTTP Basic, SOCKS5 username/password); each use adds a user (repeatable)' }),
    proxyAuthFile: z
      .string()
      .min(1)
      .optional()
      .meta({ arg: 'FILE', description: 'Require proxy credentials from an htpasswd file: bcrypt ($2y$), {SHA} or plain user:password lines' }),
    clientCert: z
      .array(z.string().regex(/^[^=]+=.+$/, 'expected HOSTGLOB=FILE'))
      .default([])
      .meta({
        arg: 'HOSTGLOB=FILE',
        description: 'Client certificate for matching origins that ask for one (mTLS): FILE is PEM with certificate and key, or .p12/.pfx (repeatable)',
      }),
    clientCertPassphrase: z
      .string()
      .optional()
      .meta({ arg: 'PASS', description: 'Passphrase of the --client-cert files (encrypted PEM keys, .p12/.pfx)' }),
    autoPassthrough: z
      .boolean()
      .default(false)
      .meta({ description: 'Tunnel a client→host pair untouched for 10 minutes after that client rejects our certificate (pinning apps)' }),
  })
  .strict();

/**
 * The CA folder used when none is given: one per user, whatever the working directory, so every
 * `mitm start` and every harness shares the root CA the user installed once (mitmproxy keeps its
 * in ~/.mitmproxy). `$XDG_CONFIG_HOME/mitm` when that variable holds an absolute path (the XDG
 * Base Directory rule), else `~/.mitm`.
 */
export function defaultCaDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_CONFIG_HOME'];
  return xdg !== undefined && isAbsolute(xdg) ? join(xdg, 'mitm') : join(homedir(), '.mitm');
}

/** A zod refinement that runs `check` on a present value and reports its MitmError message as the issue. */
function checkWith(check: (value: string) => unknown): (value: string | undefined, ctx: z.RefinementCtx) => void {
  return (value, ctx) => {
    if (value === undefined) return;
    try {
      check(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: isMitmError(error) ? error.message : String(error) });
    }
  };
}

/** Options of the command line only: how `mitm start` reports what it sees. */
export const CliOptionsSchema = ProxyOptionsSchema.extend({
  quiet: z.boolean().default(false).meta({ description: 'Print only the listening line and errors, not each flow' }),
  flowDetail: z
    .number()
    .int()
    .min(0)
    .max(4)
    .default(1)
    .meta({ arg: 'N', description: 'What is printed per flow: 0 nothing, 1 one line, 2 + headers, 3 + bodies, 4 + connection, timings and WebSocket messages' }),
  detailBodyLimit: z
    .number()
    .int()
    .nonnegative()
    .default(2048)
    .meta({ arg: 'BYTES', description: 'Bytes of each body printed at --flow-detail 3 and up (JSON pretty-printed, binary as size and type)' }),
  logFilter: z
    .string()
    .optional()
    .meta({ arg: 'FILTER', description: "Print only flows this filter matches (docs/filters.md), e.g. '-host:*.googleapis.com'; recording is unaffected" }),
  logFormat: z
    .enum(['pretty', 'json'])
    .default('pretty')
    .meta({ arg: 'FORMAT', description: 'How flows are printed: pretty (one line each) or json (one object per line)' }),
  // CLI only: the library hands out the same data as proxy.har().
  har: z
    .string()
    .min(1)
    .optional()
    .meta({ arg: 'FILE', description: 'Write the recorded flows to FILE as HAR 1.2 on exit and on SIGUSR2 (last --keep flows)' }),
}).strict();

/** What a caller of `startProxy` may pass: every field optional. */
export type ProxyOptions = z.input<typeof ProxyOptionsSchema>;
/** The validated, defaulted and frozen options the proxy reads. */
export type ProxyConfig = Readonly<z.output<typeof ProxyOptionsSchema>>;
/** The validated options of `mitm start`. */
export type CliConfig = Readonly<z.output<typeof CliOptionsSchema>>;
