// mitm recording every flow into a SQLite store (`--store`, issue #13): bodies up to the store's
// limit (8 MiB), written in batches off the request path. Compared with mitm-unrecorded for the
// target "recording to the store costs ≤ 15% of keep-alive throughput".
// As the CLI's main.ts does: V8's flags first (src/cli/memory-tuning.ts), and the rest imported only
// once they are set. Imported statically, the modules below would be parsed before the flags, and
// parsing them grows the young generation the flags keep small (docs/performance.md, round four).
import '../../src/cli/memory-tuning.js';
import { join } from 'node:path';

const { startProxy } = await import('../../src/index.js');
const { announce, exitOnSignal, peerArgs } = await import('./peer-io.js');

const { originCa, state } = peerArgs();
const caDir = join(state, 'mitm-ca');
const proxy = await startProxy({ port: 0, ca: caDir, upstreamCa: [originCa], keep: 0, store: join(state, 'bench-store.db') });
exitOnSignal(() => proxy.close());
announce(proxy.port, join(caDir, 'ca.pem'));
