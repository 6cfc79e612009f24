// The environment that points command-line clients at a running proxy and makes them trust its CA.
// `mitm env` prints it as shell exports, `mitm run` passes it to the command it starts, and test
// harnesses can pass it to their own child processes.
import { join } from 'node:path';
import { isIP } from 'node:net';
import { CA_CERT_FILE, loadCa } from '../ca/authority.js';
import { SYSTEM_BUNDLE_PATHS } from '../ca/system-roots.js';
import { ensureCaBundle } from './ca-bundle.js';
import { withPreload } from './node-preload.js';

/** What `clientEnv` needs. */
export interface ClientEnvOptions {
  /** The proxy as clients reach it: `http://127.0.0.1:8080`. */
  readonly proxyUrl: string;
  /** The proxy's CA folder (holding ca.pem); ca-bundle.pem is written next to it. */
  readonly caDir: string;
  /** NO_PROXY value (comma-separated hosts); empty by default, so localhost goes through the proxy too. */
  readonly noProxy?: string | undefined;
  /** The Node version whose capabilities decide NODE_USE_ENV_PROXY; defaults to the running one. */
  readonly nodeVersion?: string;
  /** System bundle locations to try, for tests; defaults to the usual distribution paths. */
  readonly systemBundlePaths?: readonly string[];
  /**
   * Also set NODE_OPTIONS (process.env's, plus `--import` of the preload) so Node 20/22 programs
   * honour the proxy variables too; see docs/qa-harness.md. Off by default: it only makes sense
   * for a process started with exactly this environment.
   */
  readonly nodePreload?: boolean;
}

/** Where the CA files the variables point at live. */
export interface CaFiles {
  /** ca.pem: our root alone, for variables that ADD to a trust store. */
  readonly caCertPath: string;
  /** ca-bundle.pem: system roots + ours, for variables that REPLACE a trust store. */
  readonly bundlePath: string;
}

/**
 * The variables, in the order `mitm env` prints them. Pure: no file is read or written.
 * NODE_USE_ENV_PROXY=1 makes Node ≥ 24 honour the proxy variables by itself; older Nodes ignore
 * it, so it is set only where it does something (the preload covers Node 20 and 22).
 */
export function clientEnvVars(
  proxyUrl: string,
  files: CaFiles,
  options: { readonly noProxy?: string | undefined; readonly nodeVersion?: string } = {},
): Record<string, string> {
  const noProxy = options.noProxy ?? '';
  const vars: Record<string, string> = {
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    // Lower-case too: curl reads only http_proxy for http:// URLs, and several tools prefer lower case.
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
    // Set even when empty, to override a NO_PROXY=localhost,... inherited from the user's shell:
    // local test servers are exactly what a QA run wants to see.
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    NODE_EXTRA_CA_CERTS: files.caCertPath,
    SSL_CERT_FILE: files.bundlePath,
    REQUESTS_CA_BUNDLE: files.bundlePath,
    CURL_CA_BUNDLE: files.bundlePath,
    GIT_SSL_CAINFO: files.bundlePath,
  };
  if (nodeMajor(options.nodeVersion ?? process.version) >= 24) vars.NODE_USE_ENV_PROXY = '1';
  return vars;
}

/**
 * Computes the client environment for a proxy: checks DIR/ca.pem, (re)writes DIR/ca-bundle.pem
 * when the CA or the system roots changed, and returns the variables (absolute paths).
 */
export async function clientEnv(options: ClientEnvOptions): Promise<Record<string, string>> {
  return clientEnvFor(await clientCaFiles(options.caDir, options.systemBundlePaths), options);
}

/** The CA files of clientEnv: checks DIR/ca.pem and (re)writes DIR/ca-bundle.pem when the CA or the system roots changed. */
export async function clientCaFiles(caDir: string, systemBundlePaths: readonly string[] = SYSTEM_BUNDLE_PATHS): Promise<CaFiles> {
  const ca = await loadCa(caDir);
  const bundlePath = await ensureCaBundle(ca.dir, ca.certPem, systemBundlePaths);
  return { caCertPath: join(ca.dir, CA_CERT_FILE), bundlePath };
}

/** clientEnv's variables once its CA files exist (clientCaFiles), without waiting on anything. */
export function clientEnvFor(files: CaFiles, options: Omit<ClientEnvOptions, 'caDir' | 'systemBundlePaths'>): Record<string, string> {
  const vars = clientEnvVars(options.proxyUrl, files, options);
  if (options.nodePreload === true) vars.NODE_OPTIONS = withPreload(process.env.NODE_OPTIONS);
  return vars;
}

/** The URL clients use for a proxy listening on `host:port`: a wildcard address becomes loopback. */
export function clientProxyUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${isIP(reachable) === 6 ? `[${reachable}]` : reachable}:${port}`;
}

/** Quotes a value for POSIX sh: bare when it has only safe characters, else in single quotes. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  // Inside single quotes nothing is special except the quote itself: close, escape it, reopen.
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `export NAME=value` lines for `eval "$(mitm env)"`. */
export function formatExports(vars: Readonly<Record<string, string>>): string {
  return Object.entries(vars)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
    .join('');
}

function nodeMajor(version: string): number {
  return Number(/^v?(\d+)/.exec(version)?.[1] ?? '0');
}
