import { ERROR_HEADER, MitmError } from '../errors.js';
import type { Flow } from '../flow/flow.js';
import type { Hook } from './types.js';

/** How an injected failure looks to the client. */
export type FailureKind = '502' | 'timeout' | 'reset';

/** What `failRequests()` fails, how often and how. */
export interface FailRequestsOptions {
  /** Share of matching requests to fail, 0–1 (`0.1`: one in ten, at random). */
  readonly share: number;
  /** `502` (default): answered at once; `timeout`: held for `timeoutMs`, then answered 504; `reset`: the client's connection reset (`flow.reset()`). */
  readonly kind?: FailureKind;
  /** How long a `timeout` failure holds the request (default 30 000 ms, the default --upstream-timeout). */
  readonly timeoutMs?: number;
  /** Only flows this predicate accepts; every flow when left out. */
  readonly filter?: (flow: Flow) => boolean;
}

/**
 * A hook for resilience tests: fails a share of matching requests without contacting the origin,
 * as a `502` or as a `504` after a timeout, with `x-mitm-error: injected_failure`, or as a reset
 * connection (HTTP/2: stream) recorded with the error `injected_reset`; tagged `failed`.
 */
export function failRequests(options: FailRequestsOptions): Hook {
  if (!(options.share >= 0 && options.share <= 1)) throw new MitmError('config_invalid', `share must be 0–1, got ${options.share}`);
  const kind = options.kind ?? '502';
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    name: 'failRequests',
    async onRequest(flow) {
      if (options.filter !== undefined && !options.filter(flow)) return;
      if (Math.random() >= options.share) return;
      flow.tags.add('failed');
      if (kind === 'reset') {
        flow.reset('reset on purpose (failRequests)');
        return;
      }
      if (kind === 'timeout') await new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
      const error = new MitmError(
        'injected_failure',
        `${kind === 'timeout' ? `no answer in ${timeoutMs} ms` : 'failed'} on purpose (failRequests)`,
      );
      flow.respond({
        status: kind === 'timeout' ? 504 : 502,
        headers: { 'content-type': 'text/plain; charset=utf-8', [ERROR_HEADER]: error.code },
        body: `${error.message}\n`,
      });
    },
  };
}

/** A share written as `10%`, `0.1` or `1`: a number 0–1. */
export function parseShare(text: string): number {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  const share = percent ? Number(percent[1]) / 100 : /^\d*\.?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(share >= 0 && share <= 1))
    throw new MitmError('config_invalid', `share ${JSON.stringify(text)}: expected 0–1 or a percentage such as 10%`);
  return share;
}
