// The floor for a Node MITM proxy (bench/lib/tls-relay.ts): TLS in, piped to TLS out, no HTTP.
import { runRelay } from '../lib/tls-relay.js';

await runRelay({ peekHello: false });
