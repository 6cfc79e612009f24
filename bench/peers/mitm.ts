// mitm itself, with its defaults (flows recorded, 1000 kept), trusting the origin's CA.
// As the CLI does, before the library loads undici (src/cli/memory-tuning.ts).
import '../../src/cli/memory-tuning.js';
import { join } from 'node:path';
import { startProxy } from '../../src/index.js';
import { announce, exitOnSignal, peerArgs } from './peer-io.js';

const { originCa, state } = peerArgs();
const caDir = join(state, 'mitm-ca');
const proxy = await startProxy({ port: 0, ca: caDir, upstreamCa: [originCa] });
exitOnSignal(() => proxy.close());
announce(proxy.port, join(caDir, 'ca.pem'));
