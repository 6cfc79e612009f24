// Client certificates for origins that ask for one (mutual TLS), chosen per origin by host glob.
// Each context is built once at start with the full origin trust in it: a SecureContext carries
// both what we trust and who we are, and building one per connection would re-parse every root.
// Origins without a client certificate get the shared trust context, built on first use.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { MitmError } from '../errors.js';
import { globToRegExp } from '../net/glob.js';

/** Picks the TLS context for an origin by the name it is dialled as (SNI, else host). */
export type OriginContexts = (host: string) => SecureContext;

/**
 * Builds the per-glob contexts for `--client-cert HOSTGLOB=FILE` values (FILE: PEM holding the
 * certificate chain and its key, or `.p12`/`.pfx`; `passphrase` decrypts either). The first glob
 * that matches an origin wins; origins no glob matches get `trust` alone.
 */
export async function loadClientCerts(
  entries: readonly string[],
  passphrase: string | undefined,
  trustPems: readonly string[],
  trust: () => SecureContext,
): Promise<OriginContexts> {
  const rules: Array<{ pattern: RegExp; context: SecureContext }> = [];
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals <= 0 || equals === entry.length - 1) {
      throw new MitmError('config_invalid', `clientCert ${entry}: expected HOSTGLOB=FILE`);
    }
    const glob = entry.slice(0, equals);
    const file = entry.slice(equals + 1);
    rules.push({ pattern: globToRegExp(glob), context: await loadContext(entry, file, passphrase, trustPems) });
  }
  if (rules.length === 0) return trust;
  return (host) => rules.find(({ pattern }) => pattern.test(host))?.context ?? trust();
}

async function loadContext(
  entry: string,
  file: string,
  passphrase: string | undefined,
  trustPems: readonly string[],
): Promise<SecureContext> {
  const where = `clientCert ${entry}`;
  const bytes = await readFile(file).catch((error: unknown) => {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new MitmError('config_invalid', `${where}: cannot read the file (${reason})`, { cause: error });
  });
  const pkcs12 = ['.p12', '.pfx'].includes(extname(file).toLowerCase());
  if (!pkcs12) {
    const text = bytes.toString('utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new MitmError('config_invalid', `${where}: no PEM certificate in the file`);
    if (!/-----BEGIN (?:[A-Z]+ )?(?:ENCRYPTED )?PRIVATE KEY-----/.test(text)) {
      throw new MitmError('config_invalid', `${where}: no PEM private key in the file (put the certificate and its key in one file)`);
    }
  }
  try {
    // OpenSSL checks here that the key belongs to the certificate, so a mismatch stops start-up
    // instead of surfacing as an unexplained handshake failure at some origin later.
    return createSecureContext(
      pkcs12 ? { ca: [...trustPems], pfx: bytes, passphrase } : { ca: [...trustPems], cert: bytes, key: bytes, passphrase },
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = /bad decrypt|mac verify|passphrase|bad password/i.test(reason) ? ' (wrong or missing --client-cert-passphrase?)' : '';
    throw new MitmError('config_invalid', `${where}: ${reason}${hint}`, { cause: error });
  }
}
