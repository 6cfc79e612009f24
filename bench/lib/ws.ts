// (7) WebSocket message rate: 64-byte messages echoed by the origin over one connection, run by
// bench/clients/ws-echo.ts (curl 7.88 speaks no WebSocket), straight or through the proxy's tunnel.
import { built } from './build.js';
import { CLIENT_CPU, Proc } from './procs.js';
import type { Bench, Cell, Target } from './workloads.js';

/** Echoed messages per second on one WebSocket, every echo checked. */
export async function wsMessages(t: Target, b: Bench): Promise<Cell> {
  const { route } = t;
  const count = b.sizes.wsMessages;
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
    if (result.error || result.messages !== count || !result.ms) {
      return { ok: false, values: {}, error: result.error ?? `${result.messages ?? 0} of ${count} messages echoed` };
    }
    return { ok: true, values: { msgPerSec: Math.round(count / (result.ms / 1000)), messages: count } };
  } finally {
    await client.stop();
  }
}
