// A peer that answers before reading what we send, and closes (an origin's early 413 with
// `Connection: close`), resets the connection over the bytes it left unread; our next write then
// fails with EPIPE or ECONNRESET. Node destroys a socket on a failed write at once, and with it
// the answer still waiting in the kernel's receive buffer: the HTTP client never parses it. With
// the write's failure held back until the read side has ended, the answer is read first.
import type { Socket } from 'node:net';

type WriteCallback = (error?: Error | null) => void;

// The write errors that mean the peer closed or reset the connection; anything else fails at once.
const PEER_CLOSED = new Set(['EPIPE', 'ECONNRESET']);

/**
 * Makes a write that fails because the peer closed (EPIPE, ECONNRESET) report its error only once
 * the socket's read side has ended (end of stream, or the reset met on reading): what the peer sent
 * before closing is read first. Writes queued meanwhile wait, as under backpressure. Returns `socket`.
 */
export function readPastWriteError<T extends Socket>(socket: T): T {
  const write = socket._write.bind(socket);
  socket._write = (chunk, encoding, callback) => write(chunk, encoding, heldOnPeerClose(socket, callback));
  const writev = socket._writev?.bind(socket);
  if (writev) socket._writev = (chunks, callback) => writev(chunks, heldOnPeerClose(socket, callback));
  return socket;
}

/** `callback`, with an error that means the peer closed held until the socket's read side is done. */
function heldOnPeerClose(socket: Socket, callback: WriteCallback): WriteCallback {
  return (error) => {
    const code = (error as NodeJS.ErrnoException | null | undefined)?.code;
    if (!error || code === undefined || !PEER_CLOSED.has(code) || socket.destroyed || socket.readableEnded) {
      callback(error);
      return;
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      socket.off('end', release);
      socket.off('close', release);
      callback(error);
    };
    socket.once('end', release);
    socket.once('close', release);
  };
}
