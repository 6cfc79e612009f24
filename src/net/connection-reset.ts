// A client connection reset on purpose (flow.reset(), --fail …,reset): a TCP RST rather than an
// orderly close, so the client sees ECONNRESET. A TLS socket has no TCP handle of its own, so the
// TCP socket it runs over is remembered when it is made.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

const carriers = new WeakMap<Duplex, Socket>();

/** Remembers that `wrapper` (a server-side TLS socket) runs over the TCP socket `tcp`, so `resetConnection` can reach it. */
export function noteCarrier(wrapper: Duplex, tcp: Socket): void {
  carriers.set(wrapper, tcp);
}

/** Resets the TCP connection under `socket` (through TLS sockets noted with `noteCarrier`) with an RST, and destroys both. */
export function resetConnection(socket: Duplex): void {
  let tcp: Duplex = socket;
  for (let next = carriers.get(tcp); next !== undefined; next = carriers.get(tcp)) tcp = next;
  try {
    // Throws for a socket without a TCP handle (a pipe); an orderly destroy is all that is left then.
    (tcp as Socket).resetAndDestroy();
  } catch {
    tcp.destroy();
  }
  socket.destroy();
}
