/**
 * URL globs, shared by the stock hooks: `*` matches any run of characters (slashes and the query
 * included), everything else is literal (`?` too, since URLs use it for the query). A glob matches
 * the whole absolute URL, query included: `https://api.test/users` does not match
 * `https://api.test/users?page=2`, `https://api.test/users*` does. Scheme and host compare
 * case-insensitively, the path and query exactly.
 */

/** A URL glob (see above) or a RegExp tested against the absolute URL. */
export type UrlPattern = string | RegExp;

/** A compiled pattern: `match` returns what each `*` (or RegExp group) captured, or undefined. */
export interface UrlMatcher {
  readonly source: string;
  match(url: string): string[] | undefined;
  test(url: string): boolean;
}

/** Compiles a URL glob or RegExp into a matcher. */
export function urlMatcher(pattern: UrlPattern): UrlMatcher {
  if (pattern instanceof RegExp) {
    return fromMatch(pattern.source, (url) => {
      // A /g or /y RegExp keeps state between exec calls; every URL must be tested from the start.
      pattern.lastIndex = 0;
      const found = pattern.exec(url);
      return found ? found.slice(1).map((group) => group ?? '') : undefined;
    });
  }
  const regexp = new RegExp(`^${globSource(lowerOrigin(pattern))}$`, 's');
  return fromMatch(pattern, (url) =>
    regexp
      .exec(lowerOrigin(url))
      ?.slice(1)
      .map((group) => group ?? ''),
  );
}

/** Replaces the n-th `*` of `template` with `captures[n]` (a `*` with no capture left stays empty). */
export function fillCaptures(template: string, captures: readonly string[]): string {
  let index = 0;
  return template.replace(/\*/g, () => captures[index++] ?? '');
}

function fromMatch(source: string, match: (url: string) => string[] | undefined): UrlMatcher {
  return { source, match, test: (url) => match(url) !== undefined };
}

function globSource(glob: string): string {
  // Lazy stars, anchored at both ends: the last one still runs to the end of the URL.
  return glob
    .split('*')
    .map((literal) => literal.replace(/[\\^$+?.()|{}[\]]/g, '\\$&'))
    .join('(.*?)');
}

/** Lower-cases the scheme and authority (`HTTPS://API.Test/Path` → `https://api.test/Path`). */
function lowerOrigin(url: string): string {
  const origin = /^[^:/?#]*:\/\/[^/?#]*/.exec(url)?.[0];
  return origin === undefined ? url : origin.toLowerCase() + url.slice(origin.length);
}
