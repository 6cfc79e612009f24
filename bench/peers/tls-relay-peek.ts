// tls-relay reading the ClientHello before TLS takes the socket, as mitm must (TLS or plain HTTP,
// and the SNI): what that alone costs a Node proxy's uploads (docs/performance.md). For ab.sh.
import { runRelay } from '../lib/tls-relay.js';

await runRelay({ peekHello: true });
