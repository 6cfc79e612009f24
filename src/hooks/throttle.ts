import { MitmError } from '../errors.js';
import type { Flow } from '../flow/flow.js';
import { ByteBudget, RateMeter } from '../net/rate-meter.js';
import type { Hook } from './types.js';

/** What `throttle()` slows down, and how much. */
export interface ThrottleOptions {
  /** Bits per second each way, per client connection: a number, `'256k'`, `'2m'`, or a preset (`'3g'`, `'slow-3g'`, `'offline'`). */
  readonly rate: number | string;
  /** Milliseconds added before each request goes on (default: the preset's, else 0). */
  readonly latency?: number;
  /** Only flows this predicate accepts (e.g. `flowFilter('host:api.test')`); every flow when left out. */
  readonly filter?: (flow: Flow) => boolean;
}

// Chrome DevTools' network presets (bits per second, round-trip latency).
const PRESETS: Readonly<Record<string, { bits: number; latency: number }>> = {
  '3g': { bits: 1_440_000, latency: 563 },
  'slow-3g': { bits: 400_000, latency: 2000 },
  offline: { bits: 0, latency: 0 },
};

/** Bits per second of `rate` (`256k` → 256 000; `2m` → 2 000 000; presets by name), with its preset latency. */
export function parseRate(rate: number | string): { bits: number; latency: number } {
  if (typeof rate === 'number') {
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new MitmError('config_invalid', `rate must be a positive number of bits per second, got ${rate}`);
    return { bits: rate, latency: 0 };
  }
  const preset = PRESETS[rate.toLowerCase()];
  if (preset) return preset;
  const parts = /^(\d+(?:\.\d+)?)([kmg]?)(?:bit|bps)?$/i.exec(rate.trim());
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[(parts?.[2] ?? '').toLowerCase()];
  const bits = Number(parts?.[1]) * (scale ?? Number.NaN);
  if (!(bits > 0))
    throw new MitmError(
      'config_invalid',
      `rate ${JSON.stringify(rate)}: expected bits per second such as 256k, 2m or 500000, or 3g, slow-3g, offline`,
    );
  return { bits, latency: 0 };
}

/**
 * A hook that slows matching flows to `rate` bits per second in each direction, shared by the
 * flows of one client connection, with real backpressure (bodies stream through a RateMeter), and
 * delays each request by `latency` ms. `offline` answers 503 without contacting the origin.
 * Bodies sent as bytes (mocks, bodies a hook replaced) are not slowed.
 */
export function throttle(options: ThrottleOptions): Hook {
  const preset = parseRate(options.rate);
  const latency = options.latency ?? preset.latency;
  const bytesPerSecond = preset.bits / 8;
  const connections = new Map<number, { up: ByteBudget; down: ByteBudget; flows: number }>();
  const applies = (flow: Flow): boolean => options.filter === undefined || options.filter(flow);
  return {
    name: 'throttle',
    async onRequest(flow) {
      if (!applies(flow)) return;
      if (preset.bits === 0) {
        flow.respond({ status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'offline (throttle)\n' });
        flow.tags.add('throttled');
        return;
      }
      let link = connections.get(flow.connectionId);
      if (!link) {
        link = { up: new ByteBudget(bytesPerSecond), down: new ByteBudget(bytesPerSecond), flows: 0 };
        connections.set(flow.connectionId, link);
      }
      link.flows += 1;
      flow.tags.add('throttled');
      flow.request.pipeThrough(new RateMeter(link.up));
      if (latency > 0) await new Promise<void>((resolve) => setTimeout(resolve, latency).unref());
    },
    onResponse(flow) {
      const link = connections.get(flow.connectionId);
      if (link && flow.response && flow.tags.has('throttled')) flow.response.pipeThrough(new RateMeter(link.down));
    },
    onFlowEnd(flow) {
      const link = connections.get(flow.connectionId);
      if (!link || !flow.tags.has('throttled')) return;
      link.flows -= 1;
      if (link.flows <= 0) connections.delete(flow.connectionId);
    },
  };
}
