// mitm itself, with its defaults (flows recorded, 1000 kept), trusting the origin's CA, with the new
// host names of workload 2 (*.newhost.test, bench/lib/certs.ts) resolved to the origin's address.
// As the CLI's main.ts does: V8's flags first (src/cli/memory-tuning.ts), and the rest imported only
// once they are set. Imported statically, the modules below would be parsed before the flags, and
// parsing them grows the young generation the flags keep small (docs/performance.md, round four).
import '../../src/cli/memory-tuning.js';
import { join } from 'node:path';

const { startProxy } = await import('../../src/index.js');
const { announce, exitOnSignal, peerArgs } = await import('./peer-io.js');

const { originCa, state } = peerArgs();
const caDir = join(state, 'mitm-ca');
const proxy = await startProxy({ port: 0, ca: caDir, upstreamCa: [originCa], resolve: ['*.newhost.test=127.0.0.1'] });
exitOnSignal(() => proxy.close());
announce(proxy.port, join(caDir, 'ca.pem'));
