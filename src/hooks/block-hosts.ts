import { MitmError } from '../errors.js';
import { ERROR_HEADER } from '../errors.js';
import { globToRegExp } from '../net/glob.js';
import type { Flow } from '../flow/flow.js';
import type { Hook } from './types.js';

/**
 * A hook that blocks hosts matching any of `globs` (host globs, as for --passthrough): a CONNECT
 * to one is rejected (403 `connect_rejected`), and a request to one (plain HTTP, or inside a
 * tunnel an earlier hook chose to intercept) is answered 403 with `x-mitm-error: blocked`.
 */
export function blockHosts(globs: readonly string[]): Hook {
  const patterns = globs.map((glob) => ({ glob, regexp: globToRegExp(glob) }));
  const ruleFor = (host: string): string | undefined => patterns.find(({ regexp }) => regexp.test(host))?.glob;
  return {
    name: 'blockHosts',
    onConnect({ host }) {
      return ruleFor(host) === undefined ? undefined : 'reject';
    },
    onRequest(flow) {
      // URL hostnames keep IPv6 brackets; CONNECT hosts and the globs do not.
      const host = new URL(flow.request.url).hostname.replace(/^\[(.*)\]$/, '$1');
      const glob = ruleFor(host);
      if (glob === undefined) return;
      answerBlocked(flow, `${host} is blocked (blockHosts ${glob})`);
    },
  };
}

/**
 * A hook that blocks the requests `filter` accepts (e.g. `flowFilter('host:ads.test OR path:/track*')`):
 * each is answered 403 with `x-mitm-error: blocked` and tagged `blocked`. `label` names the rule in the answer.
 */
export function blockRequests(filter: (flow: Flow) => boolean, label = 'a filter'): Hook {
  return {
    name: 'blockRequests',
    onRequest(flow) {
      if (filter(flow)) answerBlocked(flow, `${flow.request.method} ${flow.request.url} is blocked (${label})`);
    },
  };
}

function answerBlocked(flow: Flow, message: string): void {
  const error = new MitmError('blocked', message);
  flow.respond({
    status: error.status,
    headers: { 'content-type': 'text/plain; charset=utf-8', [ERROR_HEADER]: error.code },
    body: `${error.message}\n`,
  });
  flow.tags.add('blocked');
}
