import path from 'node:path';
import * as z from 'zod/mini';
import { described, flag, ProxyOptionsSchema } from '../config/schema.js';
import { clientEnv, clientProxyUrl, formatExports } from '../harness/client-env.js';
import { initCa } from '../ca/authority.js';
import { formatHelp, parseFlags, UsageError } from './flags.js';
import { writeLine, type Io } from './output/io.js';

/** NO_PROXY for `mitm env` and `mitm run`: empty unless given, so local servers are proxied too. */
export const noProxyOption = described(z.optional(z.string()), {
  arg: 'LIST',
  description: 'Hosts clients reach directly, comma-separated (NO_PROXY; empty by default, so localhost is proxied too)',
});

// The proxy's own fields, so type, default and placeholder match `mitm start`; only the wording
// changes, since here they describe a proxy that is (or will be) running elsewhere.
const EnvOptionsSchema = z.extend(z.pick(ProxyOptionsSchema, { ca: true, host: true, port: true }), {
  host: described(ProxyOptionsSchema.shape.host.clone(), {
    arg: 'ADDR',
    description: 'Address the proxy listens on (0.0.0.0 and :: become loopback for clients)',
  }),
  port: described(ProxyOptionsSchema.shape.port.clone(), { arg: 'N', description: 'Port the proxy listens on' }),
  noProxy: noProxyOption,
  node: described(flag(), {
    description: 'Also set NODE_OPTIONS (yours plus --import of the mitm preload) so Node 20/22 programs use the proxy',
  }),
});

/** One line for the command list of `mitm --help`. */
export const ENV_SUMMARY = 'Print shell exports that point clients at the proxy and its CA';

/** The `--help` page of `mitm env`. */
export function envHelp(): string {
  return formatHelp(
    'mitm env [options]',
    [
      `${ENV_SUMMARY}.`,
      'Use as: eval "$(mitm env --ca ./certs)" in the shell that runs the clients, then',
      'mitm start with the same --ca, --host and --port. Variables that replace a trust store',
      '(SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, GIT_SSL_CAINFO) point at ca-bundle.pem,',
      'written next to ca.pem: the system roots plus the mitm root CA.',
    ].join('\n'),
    EnvOptionsSchema,
  );
}

/** Runs `mitm env`: creates the CA if missing (so the paths printed exist), then prints the exports. */
export async function runEnv(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseFlags(EnvOptionsSchema, argv);
  if (parsed.help) {
    io.stdout.write(envHelp());
    return 0;
  }
  const { ca, host, port, noProxy, node } = parsed.options;
  if (port === 0) throw new UsageError('--port: 0 lets mitm start pick a port, which mitm env cannot know; pass the port it printed');
  const { created } = await initCa(ca);
  if (created) writeLine(io.stderr, `created a new root CA in ${ca}; mitm start --ca ${path.resolve(ca)} will use it`);
  const vars = await clientEnv({ proxyUrl: clientProxyUrl(host, port), caDir: ca, noProxy, nodePreload: node });
  io.stdout.write(formatExports(vars));
  return 0;
}
