// The hop alone: a CONNECT answered and its bytes piped to the origin over TCP, no TLS of its own
// (the client's TLS goes through to the origin). What any proxy adds by being one more process on
// the path, before any TLS or HTTP work (bench/lib/tls-relay.ts).
import { runRelay } from '../lib/tls-relay.js';

await runRelay({ peekHello: false, tcp: true });
