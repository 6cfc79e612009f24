// mitm with its defaults but `recordBodyLimit: 1`: every flow is recorded as by `mitm`, but a
// WebSocket's message log is full after its first message, so a connection costs what recording
// costs per connection and nothing per message. Against `mitm` with few messages per connection
// (`MESSAGES=500 WORKLOAD=ws PEER_B=mitm-log-one bench/ab.sh`), what recording costs per message.
// Not in `npm run bench`'s table: only for bench/ab.sh.
// As the CLI does, before the library loads undici (src/cli/memory-tuning.ts).
import '../../src/cli/memory-tuning.js';
import { join } from 'node:path';
import { startProxy } from '../../src/index.js';
import { announce, exitOnSignal, peerArgs } from './peer-io.js';

const { originCa, state } = peerArgs();
const caDir = join(state, 'mitm-ca');
const proxy = await startProxy({ port: 0, ca: caDir, upstreamCa: [originCa], resolve: ['*.newhost.test=127.0.0.1'], recordBodyLimit: 1 });
exitOnSignal(() => proxy.close());
announce(proxy.port, join(caDir, 'ca.pem'));
