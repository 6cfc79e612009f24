// mitm itself, with its defaults (flows recorded, 1000 kept), trusting the origin's CA, with the new
// host names of workload 2 (*.newhost.test, bench/lib/certs.ts) resolved to the origin's address.
// As the CLI does, before the library loads undici (src/cli/memory-tuning.ts).
import '../../src/cli/memory-tuning.js';
import { join } from 'node:path';
import { startProxy } from '../../src/index.js';
import { announce, exitOnSignal, peerArgs } from './peer-io.js';

const { originCa, state } = peerArgs();
const caDir = join(state, 'mitm-ca');
const proxy = await startProxy({ port: 0, ca: caDir, upstreamCa: [originCa], resolve: ['*.newhost.test=127.0.0.1'] });
exitOnSignal(() => proxy.close());
announce(proxy.port, join(caDir, 'ca.pem'));
