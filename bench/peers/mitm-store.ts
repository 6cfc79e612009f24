// mitm recording every flow into a SQLite store (`--store`, issue #13): bodies up to the store's
// limit (8 MiB), written in batches off the request path. Compared with mitm-unrecorded for the
// target "recording to the store costs ≤ 15% of keep-alive throughput".
// As the CLI does, before the library loads undici (src/cli/memory-tuning.ts).
import '../../src/cli/memory-tuning.js';
import { join } from 'node:path';
import { startProxy } from '../../src/index.js';
import { announce, exitOnSignal, peerArgs } from './peer-io.js';

const { originCa, state } = peerArgs();
const caDir = join(state, 'mitm-ca');
const proxy = await startProxy({ port: 0, ca: caDir, upstreamCa: [originCa], keep: 0, store: join(state, 'bench-store.db') });
exitOnSignal(() => proxy.close());
announce(proxy.port, join(caDir, 'ca.pem'));
