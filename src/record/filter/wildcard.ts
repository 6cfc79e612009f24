/**
 * A case-insensitive, anchored pattern where `*` matches any run of characters and `?` one
 * character; everything else is literal. (Host names use src/net/glob.ts, which also drops a
 * trailing dot; values such as paths and headers keep theirs.)
 */
export function wildcardRegExp(pattern: string): RegExp {
  const body = [...pattern].map((ch) => (ch === '*' ? '[^]*' : ch === '?' ? '[^]' : ch.replace(/[\\^$+.()|{}[\]]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'i');
}

/** True when a value holds `*` or `?`, so it is a wildcard pattern rather than a plain value. */
export function hasWildcard(value: string): boolean {
  return /[*?]/.test(value);
}
