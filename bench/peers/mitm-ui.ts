// mitm with the web inspector open and live (`--ui`, issue #17): its defaults (1000 flows kept in
// memory, as `mitm start --ui` has them) and one page's push channel connected, subscribed to
// every flow, by a Node client on the client core (bench/clients/ui-live.ts) rather than a
// browser. Compared with mitm-unrecorded for "the inspector open and live costs ≤ 15% of
// keep-alive throughput".
// As the CLI's main.ts does: V8's flags first (src/cli/memory-tuning.ts), and the rest imported only
// once they are set. Imported statically, the modules below would be parsed before the flags, and
// parsing them grows the young generation the flags keep small (docs/performance.md, round four).
import '../../src/cli/memory-tuning.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const { startProxy } = await import('../../src/index.js');
const { announce, exitOnSignal, peerArgs } = await import('./peer-io.js');
const { CLIENT_CPU, Proc } = await import('../lib/procs.js');

const { originCa, state } = peerArgs();
const caDir = join(state, 'mitm-ca');
const proxy = await startProxy({ port: 0, ca: caDir, upstreamCa: [originCa], ui: true, uiPort: 0 });
const ui = proxy.ui;
if (!ui) throw new Error('mitm-ui: the inspector did not start');
const token = new URL(ui.url).searchParams.get('token') ?? '';
const page = new Proc(
  'node',
  // `--token=…` in one argument: a token may start with '-', which parseArgs takes for an option.
  [fileURLToPath(new URL('../clients/ui-live.js', import.meta.url)), '--origin', ui.origin, `--token=${token}`],
  CLIENT_CPU,
);
const ready = (await page.nextJson(30_000)) as { ready?: boolean; error?: string };
if (!ready.ready) throw new Error(`mitm-ui: the page did not connect: ${JSON.stringify(ready)}`);
let flows = 0;
proxy.on('flow', () => {
  flows += 1;
});
exitOnSignal(async () => {
  // What the page received against what the proxy recorded, on stderr (the runner keeps its tail).
  const received = page.nextJson(3000).catch(() => undefined);
  page.child.kill('SIGTERM');
  process.stderr.write(`mitm-ui: the page received ${JSON.stringify(await received)} of ${flows} flows\n`);
  await proxy.close();
});
announce(proxy.port, join(caDir, 'ca.pem'));
