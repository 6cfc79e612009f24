// mitm with recording off (`--keep 0 --record-body-limit 0`), for issue #5's recording-overhead
// target: the `mitm` column records as `--har` does (1000 flows, bodies up to 64 KiB each, in
// memory; the HAR file itself is written only at exit or on SIGUSR2), this one records nothing.
// As the CLI's main.ts does: V8's flags first (src/cli/memory-tuning.ts), and the rest imported only
// once they are set. Imported statically, the modules below would be parsed before the flags, and
// parsing them grows the young generation the flags keep small (docs/performance.md, round four).
import '../../src/cli/memory-tuning.js';
import { join } from 'node:path';

const { startProxy } = await import('../../src/index.js');
const { announce, exitOnSignal, peerArgs } = await import('./peer-io.js');

const { originCa, state } = peerArgs();
const caDir = join(state, 'mitm-ca');
const proxy = await startProxy({ port: 0, ca: caDir, upstreamCa: [originCa], keep: 0, recordBodyLimit: 0 });
exitOnSignal(() => proxy.close());
announce(proxy.port, join(caDir, 'ca.pem'));
