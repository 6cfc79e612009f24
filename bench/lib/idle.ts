// (5) Idle intercepted tunnels: the proxy's RSS growth per open tunnel, and whether it comes back
// once they close. The tunnels are held by bench/clients/idle-tunnels.ts (curl cannot idle).
import { setTimeout as sleep } from 'node:timers/promises';
import { built } from './build.js';
import { brkHeapKiB, memoryOf, mib } from './memory.js';
import { CLIENT_CPU, Proc } from './procs.js';
import { warmUp, type Bench, type Cell, type Target } from './workloads.js';

// Memory counts as returned once at most this share of the growth is still resident: V8 and the
// allocator keep some pages for reuse (a second open/close cycle ends at the same RSS), but a leak
// or a per-connection cache that never shrinks keeps nearly all of it.
const RETURNED_SHARE = 0.5;

/** Opens `sizes.idleTunnels` tunnels, measures, closes them, and watches RSS for up to `sizes.idleSettleMs`. */
export async function idleTunnels(t: Target, b: Bench): Promise<Cell> {
  const { pid, route } = t;
  if (pid === undefined || !route.proxy) return { ok: true, values: {}, note: 'no proxy process' };
  // Warm-up: the leaf for localhost is minted and the TLS code paths are compiled before the baseline.
  const warm = await warmUp(route, b);
  if (warm) return { ok: false, values: {}, error: warm };
  await sleep(1000);
  const base = (await memoryOf(pid)).rssKiB;
  const baseHeap = await brkHeapKiB(pid);
  const count = b.sizes.idleTunnels;
  const client = new Proc(
    'node',
    [
      built('bench/clients/idle-tunnels.ts'),
      '--proxy-port',
      new URL(route.proxy).port,
      '--target',
      `localhost:${b.h1Port}`,
      '--count',
      String(count),
      '--ca',
      route.ca,
    ],
    CLIENT_CPU,
  );
  try {
    const opened = (await client.nextJson(180_000)) as { open?: number; failed?: number; error?: string };
    if (opened.open !== count) {
      return {
        ok: false,
        values: {},
        error: `${opened.open ?? 0} of ${count} tunnels opened (${opened.failed ?? '?'} failed: ${opened.error ?? '?'})`,
      };
    }
    await sleep(1500);
    const held = (await memoryOf(pid)).rssKiB;
    client.send('close');
    await client.nextJson(30_000);
    const growth = held - base;
    const values: Record<string, number> = {
      tunnels: count,
      kibPerConn: Math.round((growth / count) * 10) / 10,
      baseMiB: mib(base),
      heldMiB: mib(held),
    };
    if (b.sizes.idleSettleMs === 0) return { ok: true, values, note: 'memory return not checked (--quick)' };
    // V8 gives the memory back lazily (its memory reducer runs some seconds after activity stops),
    // so this polls for a while, stopping as soon as the memory is back.
    let after = held;
    const until = Date.now() + b.sizes.idleSettleMs;
    while (Date.now() < until && after - base > RETURNED_SHARE * growth) {
      await sleep(500);
      after = (await memoryOf(pid)).rssKiB;
    }
    const returned = growth <= 0 || after - base <= RETURNED_SHARE * growth;
    const retainedPct = growth > 0 ? Math.round(((after - base) / growth) * 100) : 0;
    // How much of what is kept is glibc's main heap (freed native memory glibc holds for reuse).
    const heapKeptMiB = mib((await brkHeapKiB(pid)) - baseHeap);
    return { ok: true, values: { ...values, afterCloseMiB: mib(after), retainedPct, heapKeptMiB, returned: returned ? 1 : 0 } };
  } finally {
    await client.stop();
  }
}
