import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { readSystemRoots } from '../ca/system-roots.js';
import { MitmError } from '../errors.js';

/**
 * The certificates every origin is verified against: Node's bundled roots, the system bundle,
 * `NODE_EXTRA_CA_CERTS` and each `--upstream-ca` file. connectivity.ts builds one context from
 * them (originTrust): passing `ca` per connection would re-parse hundreds of roots per handshake.
 */
export async function loadOriginTrustPems(upstreamCaFiles: readonly string[]): Promise<string[]> {
  const pems: string[] = [...rootCertificates];
  const system = await readSystemRoots();
  if (system.source !== 'node') pems.push(system.pem);
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    // Node itself only warns when this file is unreadable; do the same by skipping it.
    const text = await readFile(extra, 'utf8').catch(() => undefined);
    if (text !== undefined) pems.push(text);
  }
  for (const file of upstreamCaFiles) pems.push(await readCaFile(file));
  return pems;
}

async function readCaFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new MitmError('config_invalid', `upstreamCa ${file}: cannot read the file (${reason})`, { cause: error });
  }
  try {
    new X509Certificate(text);
  } catch (error) {
    throw new MitmError('config_invalid', `upstreamCa ${file}: no PEM certificate found in the file`, { cause: error });
  }
  return text;
}

/**
 * The one SecureContext that verifies origins, built from `pems` on the first call and kept.
 * Parsing ~300 roots takes 50–100 ms, so it is not built at start-up: startProxy builds it right
 * after listening, or the first origin connection does if it comes sooner (docs/performance.md,
 * "Start-up").
 */
export function originTrust(pems: readonly string[]): () => SecureContext {
  let context: SecureContext | undefined;
  return () => {
    context ??= createSecureContext({ ca: [...pems] });
    return context;
  };
}
