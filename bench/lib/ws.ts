// (7) WebSocket message rate: 64-byte messages echoed by the origin over one connection, run by
// bench/clients/ws-echo.ts (curl 7.88 speaks no WebSocket), straight or through the proxy's tunnel.
// Measured in rounds across the routes like 1, 3 and 4, after an unmeasured quarter-size run.
import { built } from './build.js';
import { CLIENT_CPU, Proc } from './procs.js';
import type { Bench, SideBySide, Target } from './workloads.js';

/** Echoed messages per second on one WebSocket, every echo checked. */
export const wsMessages: SideBySide = {
  figure: 'msgPerSec',
  warm: async (t, b) => {
    const outcome = await echo(t, b, Math.ceil(b.sizes.wsMessages / 4));
    return typeof outcome === 'string' ? `warm-up: ${outcome}` : undefined;
  },
  once: (t, b) => echo(t, b, b.sizes.wsMessages),
};

/** Runs one ws-echo client for `count` messages: messages/s, or what went wrong. */
async function echo(t: Target, b: Bench, count: number): Promise<number | string> {
  const { route } = t;
  const client = new Proc(
    'node',
    [
      built('bench/clients/ws-echo.ts'),
      '--url',
      `wss://localhost:${b.h1Port}/ws`,
      '--ca',
      route.ca,
      '--messages',
      String(count),
      ...(route.proxy ? ['--proxy-port', new URL(route.proxy).port] : []),
    ],
    CLIENT_CPU,
  );
  try {
    const result = (await client.nextJson(150_000)) as { messages?: number; ms?: number; error?: string };
    if (result.error || result.messages !== count || !result.ms)
      return result.error ?? `${result.messages ?? 0} of ${count} messages echoed`;
    return count / (result.ms / 1000);
  } finally {
    await client.stop();
  }
}
