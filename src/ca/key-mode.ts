// The CA key can impersonate any site to every machine that trusts the CA: a copy readable by other
// users of this machine is a copy they can take. `start` refuses it unless told otherwise.
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MitmError } from '../errors.js';
import { CA_KEY_FILE } from './authority.js';

/**
 * Throws `ca_key_insecure` when DIR/ca-key.pem is readable or writable by group or others, with the
 * `chmod 600` to run. Windows file modes do not express this, so nothing is checked there.
 */
export async function checkKeyMode(dir: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  if (platform === 'win32') return;
  const keyPath = resolve(join(dir, CA_KEY_FILE));
  const { mode } = await stat(keyPath);
  if ((mode & 0o077) === 0) return;
  const who = [(mode & 0o070) !== 0 ? 'group' : '', (mode & 0o007) !== 0 ? 'others' : ''].filter((part) => part !== '').join(' and ');
  throw new MitmError(
    'ca_key_insecure',
    `${keyPath} is accessible by ${who} (mode ${(mode & 0o777).toString(8).padStart(3, '0')}): run  chmod 600 ${shellQuote(keyPath)}  (or start with --allow-insecure-key)`,
  );
}

/** Quotes a path for a POSIX shell when it holds anything beyond safe characters. */
function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
