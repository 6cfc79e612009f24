// Who may use the proxy (--proxy-auth, --proxy-auth-file): Basic credentials on HTTP requests and
// CONNECT, RFC 1929 username/password on SOCKS5. Passwords are never logged, recorded or kept in
// memory as given: plain ones are stored as SHA-256 digests and compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import { MitmError } from '../errors.js';

/** Checks proxy credentials. */
export interface ProxyAuth {
  /** Resolves with the user name when `header` (a Proxy-Authorization value) holds valid Basic credentials, else undefined. */
  checkHeader(header: string | undefined): Promise<string | undefined>;
  /** True when `user` and `password` are valid (SOCKS5 username/password). */
  check(user: string, password: string): Promise<boolean>;
}

type Verifier = (password: string) => Promise<boolean>;

// bcrypt costs tens of milliseconds per check by design, and clients send the same credentials on
// every request; remembering recent successes (by digest, never the password) keeps that off the
// hot path.
const VERIFIED_CACHE = { max: 256, ttl: 10 * 60 * 1000 };

/** Builds the checker from `--proxy-auth USER:PASS` values and an htpasswd file; undefined when neither is set. */
export async function loadProxyAuth(options: {
  readonly proxyAuth: readonly string[];
  readonly proxyAuthFile?: string | undefined;
}): Promise<ProxyAuth | undefined> {
  const users = new Map<string, Verifier>();
  if (options.proxyAuthFile !== undefined) {
    const file = options.proxyAuthFile;
    const text = await readFile(file, 'utf8').catch((error: unknown) => {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new MitmError('config_invalid', `--proxy-auth-file ${file}: cannot read the file (${reason})`, { cause: error });
    });
    for (const [user, verifier] of parseHtpasswd(text, file)) users.set(user, verifier);
  }
  // Given on the command line, so they win over the file for the same user.
  for (const entry of options.proxyAuth) {
    const { user, secret } = splitEntry(entry, '--proxy-auth');
    users.set(user, plainVerifier(secret));
  }
  if (users.size === 0) return undefined;
  const verified = new LRUCache<string, true>(VERIFIED_CACHE);
  // Unknown users are checked against a random digest, so they take as long as a wrong password.
  const nobody = plainVerifier(randomBytes(16).toString('hex'));

  const check = async (user: string, password: string): Promise<boolean> => {
    const key = sha256(`${user}\0${password}`).toString('base64');
    if (verified.has(key)) return true;
    const verifier = users.get(user);
    const ok = (await (verifier ?? nobody)(password)) && verifier !== undefined;
    if (ok) verified.set(key, true);
    return ok;
  };
  return {
    check,
    async checkHeader(header) {
      const credentials = parseBasic(header);
      if (credentials === undefined) return undefined;
      return (await check(credentials.user, credentials.password)) ? credentials.user : undefined;
    },
  };
}

/**
 * Parses htpasswd lines: `user:{SHA}base64` (htpasswd -s), `user:$2y$…` bcrypt (htpasswd -B; also
 * $2a$/$2b$), or `user:password` in plain text. Blank lines and `#` comments are skipped. Other
 * hash formats (MD5 `$apr1$`, `$1$`, `$5$`, `$6$`) are refused rather than read as passwords.
 */
export function parseHtpasswd(text: string, file: string): Map<string, Verifier> {
  const users = new Map<string, Verifier>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const where = `--proxy-auth-file ${file}:${index + 1}`;
    const { user, secret } = splitEntry(line, where);
    if (secret.startsWith('{SHA}')) {
      const digest = Buffer.from(secret.slice(5), 'base64');
      if (digest.length !== 20) throw new MitmError('config_invalid', `${where}: the {SHA} hash of ${user} is not 20 bytes of base64`);
      users.set(user, async (password) => timingSafeEqual(createHash('sha1').update(password).digest(), digest));
    } else if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(secret)) {
      // bcryptjs compares the computed hash in constant time itself; it is loaded on the first
      // check, since most proxies have no bcrypt entries.
      users.set(user, async (password) => (await import('bcryptjs')).default.compare(password, secret));
    } else if (/^\$(apr1|1|5|6|2[aby]?)\$/.test(secret)) {
      throw new MitmError(
        'config_invalid',
        `${where}: unsupported password hash for ${user}; use bcrypt (htpasswd -B) or SHA-1 (htpasswd -s)`,
      );
    } else {
      users.set(user, plainVerifier(secret));
    }
  });
  return users;
}

/** The user and password of a `Basic` Proxy-Authorization value, or undefined when it is absent or malformed. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function splitEntry(entry: string, where: string): { user: string; secret: string } {
  const colon = entry.indexOf(':');
  // The message never repeats the entry: it holds a password.
  if (colon <= 0) throw new MitmError('config_invalid', `${where}: expected USER:PASSWORD`);
  return { user: entry.slice(0, colon), secret: entry.slice(colon + 1) };
}

function plainVerifier(secret: string): Verifier {
  const expected = sha256(secret);
  return async (password) => timingSafeEqual(sha256(password), expected);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
