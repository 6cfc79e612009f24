/**
 * Secrets out of exported fixtures (docs/mocks.md). A value is a secret when it is the value of
 * `Authorization`, `Proxy-Authorization`, `Cookie` or `Set-Cookie` (and each cookie in them, and the
 * credentials after the scheme), or of a header, query parameter, form field or JSON field (at any
 * depth; everything under it) whose name matches the secret names. Every secret gets a placeholder,
 * `<redacted:NAME:N>`, the same for the same value everywhere; `scrub` then replaces every other
 * occurrence of the secrets of 6 characters or more in any text (raw, URL- and JSON-escaped).
 */

/** Names whose values are secrets unless the user adds more (`--redact`). */
export const SECRET_NAMES = /token|secret|password|passwd|api[-_]?key|session|auth/i;

/** Headers whose values are always secrets. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Values shorter than this are replaced where their name says so, but not searched for elsewhere. */
const MIN_SCRUB_LENGTH = 6;

/** What was redacted: per name, how many values were found under it; `echoes`: other occurrences replaced. */
export interface RedactionReport {
  readonly byName: ReadonlyArray<readonly [name: string, count: number]>;
  readonly echoes: number;
}

/** Collects secrets and their placeholders; one per export, so placeholders are stable across flows. */
export class Redactor {
  readonly #patterns: readonly RegExp[];
  readonly #placeholders = new Map<string, string>();
  readonly #perName = new Map<string, number>();
  readonly #found = new Map<string, number>();
  #echoes = 0;
  #counting = true;
  /** The forms of the secrets to search for, by their first MIN_SCRUB_LENGTH characters, longest first; built on first use. */
  #index: Map<string, Array<readonly [form: string, placeholder: string]>> | undefined;

  /** `extra`: more secret names (`--redact`), tested like the built-in pattern. */
  constructor(extra: readonly RegExp[] = []) {
    this.#patterns = [SECRET_NAMES, ...extra];
  }

  /** True when values under `name` are secrets. */
  isSecretName(name: string): boolean {
    return this.#patterns.some((pattern) => {
      pattern.lastIndex = 0;
      return pattern.test(name);
    });
  }

  /** True for the headers whose values are always secrets, and those with a secret name. */
  isSecretHeader(name: string): boolean {
    return SECRET_HEADERS.has(name.toLowerCase()) || this.isSecretName(name);
  }

  /** The placeholder of `value` found under `name`, recording it as a secret (counted under `name`). */
  secret(name: string, value: string): string {
    const label = name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-') || 'value';
    if (this.#counting) this.#found.set(label, (this.#found.get(label) ?? 0) + 1);
    let placeholder = this.#placeholders.get(value);
    if (placeholder === undefined) {
      const n = (this.#perName.get(label) ?? 0) + 1;
      this.#perName.set(label, n);
      placeholder = `<redacted:${label}:${n}>`;
      this.#placeholders.set(value, placeholder);
      this.#index = undefined;
    }
    return placeholder;
  }

  /** Records the secrets in a header value and returns its redacted form (the value itself when not secret). */
  header(name: string, value: string): string {
    const lower = name.toLowerCase();
    if (!this.isSecretHeader(lower)) return value;
    const placeholder = this.secret(lower, value);
    if (lower === 'cookie') for (const [cookie, part] of cookiePairs(value)) this.secret(cookie, part);
    if (lower === 'set-cookie') {
      const [cookie, part] = cookiePairs(value.split(';')[0] ?? '')[0] ?? [];
      if (cookie !== undefined && part !== undefined) this.secret(cookie, part);
    }
    if (lower === 'authorization' || lower === 'proxy-authorization') for (const part of credentials(value)) this.secret(lower, part);
    return placeholder;
  }

  /** A query string or form body (`a=1&token=x`) with secret-named values replaced. */
  params(query: string): string {
    return query
      .split('&')
      .map((pair) => {
        const at = pair.indexOf('=');
        if (at === -1) return pair;
        const name = decode(pair.slice(0, at));
        return this.isSecretName(name) ? `${pair.slice(0, at)}=${this.secret(name, decode(pair.slice(at + 1)))}` : pair;
      })
      .join('&');
  }

  /** A parsed JSON value with the values of secret-named fields replaced, at any depth. */
  json(value: unknown, under?: string): unknown {
    if (Array.isArray(value)) return value.map((item) => this.json(item, under));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        Object.defineProperty(out, key, {
          value: this.json(item, under ?? (this.isSecretName(key) ? key : undefined)),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    if (under !== undefined && (typeof value === 'string' || typeof value === 'number')) return this.secret(under, String(value));
    return value;
  }

  /** Ends the collecting pass: later `secret` calls (rewriting what was collected) are not counted again. */
  stopCounting(): void {
    this.#counting = false;
  }

  /** `text` with every occurrence of a known secret (raw, URL-encoded, JSON-escaped) replaced by its placeholder. */
  scrub(text: string): string {
    const index = this.#searchIndex();
    if (index.size === 0) return text;
    // One pass, looking up each position's next MIN_SCRUB_LENGTH characters: a regular expression
    // with thousands of alternatives (a session of tokens) is far slower.
    let out = '';
    let copied = 0;
    for (let at = 0; at + MIN_SCRUB_LENGTH <= text.length; ) {
      const hit = index.get(text.slice(at, at + MIN_SCRUB_LENGTH))?.find(([form]) => text.startsWith(form, at));
      if (hit === undefined) {
        at += 1;
        continue;
      }
      out += text.slice(copied, at) + hit[1];
      at += hit[0].length;
      copied = at;
      this.#echoes += 1;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }

  /** A parsed JSON value with `scrub` applied to every string and key. */
  scrubJson(value: unknown): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (Array.isArray(value)) return value.map((item) => this.scrubJson(item));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        Object.defineProperty(out, this.scrub(key), { value: this.scrubJson(item), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return value;
  }

  /** Counts by name, most first; never values. */
  report(): RedactionReport {
    const byName = [...this.#found].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return { byName, echoes: this.#echoes };
  }

  #searchIndex(): Map<string, Array<readonly [form: string, placeholder: string]>> {
    if (this.#index !== undefined) return this.#index;
    const index = new Map<string, Array<readonly [string, string]>>();
    for (const [value, placeholder] of this.#placeholders) {
      if (value.length < MIN_SCRUB_LENGTH) continue;
      const forms = new Set([
        value,
        encodeURIComponent(value),
        encodeURIComponent(value).replaceAll('%20', '+'),
        JSON.stringify(value).slice(1, -1),
      ]);
      for (const form of forms) {
        const key = form.slice(0, MIN_SCRUB_LENGTH);
        const candidates = index.get(key) ?? [];
        candidates.push([form, placeholder]);
        index.set(key, candidates);
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    for (const candidates of index.values()) candidates.sort((a, b) => b[0].length - a[0].length);
    this.#index = index;
    return index;
  }
}

/** `a=1; b=2` → `[['a', '1'], ['b', '2']]`. */
function cookiePairs(header: string): Array<[string, string]> {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()]);
}

/** The parts of an Authorization value worth hiding on their own: the credentials, and a Basic password. */
function credentials(value: string): string[] {
  const [scheme = '', ...rest] = value.trim().split(/\s+/);
  const token = rest.join(' ');
  if (token === '') return [];
  if (scheme.toLowerCase() !== 'basic') return [token];
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? [token] : [token, decoded, decoded.slice(colon + 1)];
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}
