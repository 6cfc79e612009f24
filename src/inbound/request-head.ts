// The Host of a plain-HTTP connection's first request, read before the HTTP server sees it: a
// transparent listener learns the destination from it (there is no CONNECT and no
// SO_ORIGINAL_DST), as nginx or mitmproxy's transparent mode do.
import type { Socket } from 'node:net';

// As much as Node's HTTP server accepts for a request head by default (--max-http-header-size).
const MAX_HEAD = 16 * 1024;

/** What the first request head says: its Host value ('' when there is none), or `too_large` / `closed`. */
export type HeadHost = { readonly host: string } | 'too_large' | 'closed';

/**
 * Reads `socket` until the first request head is complete and returns its Host header; the bytes
 * are put back (`unshift`) and the socket is left paused for the HTTP server.
 */
export function peekRequestHost(socket: Socket): Promise<HeadHost> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (result: HeadHost): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (chunks.length > 0) socket.unshift(Buffer.concat(chunks));
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      const head = Buffer.concat(chunks);
      const end = head.indexOf('\r\n\r\n');
      if (end !== -1) finish({ host: hostOf(head.subarray(0, end).toString('latin1')) });
      else if (length > MAX_HEAD) finish('too_large');
    };
    const onClose = (): void => finish('closed');
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

// RFC 9112 §3.2: exactly one Host field; an absolute-form request line names the host itself.
function hostOf(head: string): string {
  const [requestLine = '', ...fields] = head.split('\r\n');
  const absolute = /^\S+ [a-z][a-z0-9+.-]*:\/\/([^/?#\s]+)/i.exec(requestLine);
  if (absolute) return (absolute[1] ?? '').replace(/^.*@/, '');
  const hosts = fields.filter((field) => /^host[ \t]*:/i.test(field));
  return hosts.length === 1 ? (hosts[0] ?? '').replace(/^host[ \t]*:/i, '').trim() : '';
}
