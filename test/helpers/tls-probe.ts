import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, runOk } from './run.js';

/** The leaf certificate a client was shown, as PEM, a parsed object and openssl's own reading. */
export interface SeenLeaf {
  readonly pem: string;
  readonly path: string;
  readonly x509: X509Certificate;
  /** `openssl x509 -noout -issuer -ext subjectAltName` output. */
  readonly opensslText: string;
  /** The issuer as openssl prints it, without the `issuer=` prefix. */
  readonly issuer: string;
}

/**
 * Runs `openssl s_client -proxy 127.0.0.1:<proxyPort> -connect <connect> -showcerts </dev/null`
 * (with `-servername` when given, else `-noservername`, then `extraArgs`) and returns the first
 * certificate it printed, saved to `<dir>/<fileName>` for `openssl verify`.
 */
export async function leafViaSClient(
  proxyPort: number,
  connect: string,
  servername: string | undefined,
  dir: string,
  fileName: string,
  extraArgs: readonly string[] = [],
): Promise<SeenLeaf> {
  const sni = servername === undefined ? ['-noservername'] : ['-servername', servername];
  const result = await run('openssl', [
    's_client',
    '-proxy',
    `127.0.0.1:${proxyPort}`,
    '-connect',
    connect,
    ...sni,
    ...extraArgs,
    '-showcerts',
  ]);
  const output = result.stdout.toString('utf8');
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output)?.[0];
  if (pem === undefined) {
    throw new Error(`openssl s_client printed no certificate (exit ${result.code}): ${result.stderr.trim()}`);
  }
  const path = join(dir, fileName);
  await writeFile(path, `${pem}\n`);
  const text = (await runOk('openssl', ['x509', '-in', path, '-noout', '-issuer', '-ext', 'subjectAltName'])).stdout.toString('utf8');
  return { pem, path, x509: new X509Certificate(pem), opensslText: text, issuer: prefixed(text, 'issuer=') };
}

/** The subject of the certificate in `path` as `openssl x509 -noout -subject` prints it, without `subject=`. */
export async function opensslSubject(path: string): Promise<string> {
  const out = (await runOk('openssl', ['x509', '-in', path, '-noout', '-subject'])).stdout.toString('utf8');
  return prefixed(out, 'subject=');
}

/** `openssl verify -purpose sslserver -CAfile <ca> <leaf>`: its stdout line (`<leaf>: OK` on success). */
export async function opensslVerify(caPath: string, leafPath: string): Promise<{ ok: boolean; output: string }> {
  const result = await run('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', caPath, leafPath]);
  const output = `${result.stdout.toString('utf8')}${result.stderr}`.trim();
  return { ok: result.code === 0 && output.includes(`${leafPath}: OK`), output };
}

function prefixed(text: string, prefix: string): string {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no ${prefix} line in: ${text}`);
  return line.slice(prefix.length).trim();
}
