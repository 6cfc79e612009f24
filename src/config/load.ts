import { z } from 'zod';
import { MitmError } from '../errors.js';
import { ProxyOptionsSchema, type ProxyConfig } from './schema.js';

/**
 * Validates `input` against `schema` and returns a deeply frozen copy with defaults filled in.
 * A bad value becomes a `config_invalid` error whose message names the option, via `nameOf`
 * (the CLI passes a function that turns `upstreamCa` into `--upstream-ca`).
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  nameOf: (key: string) => string = (key) => key,
): Readonly<z.output<S>> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw configError(result.error, nameOf);
  return deepFreeze(result.data);
}

/** Validates library options for `startProxy`. */
export function parseProxyOptions(input: unknown): ProxyConfig {
  return parseWith(ProxyOptionsSchema, input);
}

const MASK = '***';
// scheme://user:PASSWORD@ — a password in a valid URL holds no '@' or '/' (they are %-encoded).
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i;

/**
 * `config` as a running proxy shows it (`proxy.config`), frozen: the passwords of --proxy-auth and
 * --upstream-proxy and the --client-cert passphrase read `***`, so a harness that logs it leaks none.
 */
export function redactSecrets(config: ProxyConfig): ProxyConfig {
  const { upstreamProxy, clientCertPassphrase } = config;
  return deepFreeze({
    ...config,
    proxyAuth: config.proxyAuth.map((entry) => `${entry.slice(0, entry.indexOf(':'))}:${MASK}`),
    ...(upstreamProxy === undefined ? {} : { upstreamProxy: upstreamProxy.replace(URL_PASSWORD, `$1${MASK}@`) }),
    ...(clientCertPassphrase === undefined ? {} : { clientCertPassphrase: MASK }),
  });
}

function configError(error: z.ZodError, nameOf: (key: string) => string): MitmError {
  const lines = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown option ${issue.keys.map(nameOf).join(', ')}`;
    const key = issue.path[0];
    const where = typeof key === 'string' ? `${nameOf(key)}: ` : '';
    return `${where}${issue.message}`;
  });
  return new MitmError('config_invalid', `invalid options: ${lines.join('; ')}`, { cause: error });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
