// The proxy port speaks HTTP and SOCKS5 at once. A net.Server accepts every connection and looks at
// its first byte: 0x05 opens a SOCKS5 greeting (RFC 1928 §3), and no HTTP request line can start
// with it, so everything else goes to the http.Server, which never listens itself.
import type http from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { onFirstBytes } from './first-bytes.js';
import { SOCKS_VERSION } from '../net/socks5-wire.js';

/**
 * Creates the listening server: connections whose first byte is 0x05 go to `onSocks`, all others
 * to `httpServer` (as if it had accepted them); `track` admits each first, or refuses it (false).
 */
export function createListener(httpServer: http.Server, onSocks: (socket: Socket) => void, track: (socket: Socket) => boolean): Server {
  // allowHalfOpen as http.Server has it: a client may send a request and half-close, and still
  // expects the answer.
  // noDelay: without it Nagle's algorithm holds a small response behind the client's delayed ACK
  // (~40 ms per exchange, measured by bench/); http.Server sets it by default, a bare net.Server not.
  const listener = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    // false: refused by the admission gate (--allow-client, connection limits), already handled.
    if (!track(socket)) return;
    // As long as the HTTP server allows for a request head: a client that connects and says
    // nothing is dropped after that either way.
    onFirstBytes(socket, httpServer.headersTimeout, (first) => {
      if (first[0] === SOCKS_VERSION) {
        onSocks(socket);
      } else {
        httpServer.emit('connection', socket);
        socket.resume();
      }
    });
  });
  return listener;
}
