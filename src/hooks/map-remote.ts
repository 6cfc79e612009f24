import type { Hook } from './types.js';
import { fillCaptures, urlMatcher } from './url-pattern.js';

/**
 * A hook that sends matching requests to another server by rewriting their URL. `from` is a URL
 * glob whose `*`s fill the `*`s of `to` in order (`https://api.prod.test/*` →
 * `http://127.0.0.1:9000/*`); without a `*` it is a prefix and the rest of the URL is kept
 * (`https://api.prod.test/v1/` → `http://127.0.0.1:9000/`). The Host header follows the new URL.
 */
export function mapRemote(from: string, to: string): Hook {
  const prefix = !from.includes('*');
  const matcher = urlMatcher(prefix ? `${from}*` : from);
  const template = prefix ? `${to}*` : to;
  return {
    name: 'mapRemote',
    onRequest(flow) {
      const captures = matcher.match(flow.request.url);
      if (captures === undefined) return;
      flow.request.url = fillCaptures(template, captures);
      flow.tags.add('mapped');
    },
  };
}
