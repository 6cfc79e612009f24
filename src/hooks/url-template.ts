/**
 * URL templates of mock rules given as data (`mockServer({ rules })`, `mitm mocks export`): an
 * absolute URL whose path segments may be parameters, `https://api.test/users/:id`. A `:name`
 * segment matches exactly one non-empty path segment; every other character is literal. The
 * query is not part of a template and not compared. Scheme and host compare case-insensitively,
 * the path exactly.
 */

/** A compiled URL template. */
export interface UrlTemplate {
  readonly source: string;
  /** The parameters' values by name, or undefined when `url` does not fit the template. */
  match(url: string): Record<string, string> | undefined;
}

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/** Compiles a template; throws an Error saying what is wrong (not absolute, a query, a repeated parameter). */
export function urlTemplate(template: string): UrlTemplate {
  const parts = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]+)(\/[^?#]*)?$/i.exec(template);
  if (!parts) throw new Error(`${JSON.stringify(template)} is not an absolute URL without query, as in https://api.test/users/:id`);
  const origin = (parts[1] ?? '').toLowerCase();
  const names: string[] = [];
  const segments = (parts[2] ?? '/').split('/').map((segment) => {
    const param = PARAM.exec(segment)?.[1];
    if (param === undefined) return segment.replace(/[\\^$*+?.()|{}[\]]/g, '\\$&');
    if (names.includes(param)) throw new Error(`${JSON.stringify(template)} names the parameter :${param} twice`);
    names.push(param);
    return '([^/]+)';
  });
  const regexp = new RegExp(`^${segments.join('/')}$`);
  return {
    source: template,
    match(url) {
      const at = /^[^:/?#]*:\/\/[^/?#]*/.exec(url)?.[0];
      if (at === undefined || at.toLowerCase() !== origin) return undefined;
      const path = url.slice(at.length).split(/[?#]/)[0] || '/';
      const found = regexp.exec(path);
      if (!found) return undefined;
      return Object.fromEntries(names.map((name, i) => [name, found[i + 1] ?? '']));
    },
  };
}
