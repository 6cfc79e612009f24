/**
 * Host globs: `*` matches any run of characters (dots included, so `*.example.com` covers every
 * subdomain depth but not `example.com` itself), `?` one character; case-insensitive, anchored.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .toLowerCase()
    .replace(/\.$/, '')
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$+.()|{}[\]]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}
