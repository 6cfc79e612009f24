// Waiting for a connection's first bytes before deciding what reads it: the proxy port tells SOCKS5
// from HTTP by them (listener.ts), and an intercepted HTTP/1.x connection meets the HTTP server
// only with its first request (start.ts).
import type { Socket } from 'node:net';

/**
 * Calls `then` with the first bytes `socket` receives, put back (`unshift`) so that the next reader
 * sees them too, with the socket paused. Until then an error, the peer's end (these sockets allow
 * half-open connections, so nothing else would close one the peer left without a byte) or `idleMs`
 * of silence destroys it.
 */
export function onFirstBytes(socket: Socket, idleMs: number, then: (first: Buffer) => void): void {
  const drop = (): void => {
    socket.destroy();
  };
  socket.once('error', drop);
  socket.once('end', drop);
  socket.setTimeout(idleMs, drop);
  socket.once('data', (first: Buffer) => {
    socket.pause();
    socket.unshift(first);
    socket.off('error', drop);
    socket.off('end', drop);
    socket.setTimeout(0, drop);
    then(first);
  });
  socket.resume();
}
