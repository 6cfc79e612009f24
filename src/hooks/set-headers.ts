import type { Flow } from '../flow/flow.js';
import type { HeaderMap } from '../flow/header-map.js';
import type { Hook } from './types.js';
import { urlMatcher, type UrlPattern } from './url-pattern.js';

/** Header edits: a string adds or replaces the field, `null` removes it. Names are case-insensitive. */
export type HeaderEdits = Readonly<Record<string, string | null>>;

/** What `setHeaders` changes, and on which requests. */
export interface SetHeadersOptions {
  /** Applied to the request before it goes upstream. */
  readonly request?: HeaderEdits;
  /** Applied to the response (from the origin or from a mock) before it goes to the client. */
  readonly response?: HeaderEdits;
  /** Only requests whose URL matches (a URL glob or RegExp); every request when left out. */
  readonly match?: UrlPattern;
  /** Only flows this predicate accepts (e.g. `flowFilter('host:api.test method:POST')`); with `match`, both must hold. */
  readonly filter?: (flow: Flow) => boolean;
}

/** A hook that adds, replaces or removes request and response headers, optionally only for matching URLs. */
export function setHeaders(options: SetHeadersOptions): Hook {
  const matcher = options.match === undefined ? undefined : urlMatcher(options.match);
  const { filter } = options;
  const applies = (flow: Flow): boolean =>
    (matcher === undefined || matcher.test(flow.request.url)) && (filter === undefined || filter(flow));
  const { request, response } = options;
  return {
    name: 'setHeaders',
    ...(request && {
      onRequest(flow) {
        if (applies(flow)) edit(flow.request.headers, request);
      },
    }),
    ...(response && {
      onResponse(flow) {
        // The request URL as the hooks before us left it: what the response actually answers.
        if (flow.response && applies(flow)) edit(flow.response.headers, response);
      },
    }),
  };
}

function edit(headers: HeaderMap, edits: HeaderEdits): void {
  for (const [name, value] of Object.entries(edits)) {
    const key = name.toLowerCase();
    if (value === null) delete headers[key];
    else headers[key] = value;
  }
}
