// The HTTP/2 floor for a Node MITM proxy (bench/lib/h2-relay.ts): streams relayed with the core API, no HTTP semantics.
import { runH2Relay } from '../lib/h2-relay.js';

await runH2Relay();
