import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { constants as h2 } from 'node:http2';
import type { Duplex } from 'node:stream';
import { ERROR_HEADER, type ErrorCode, type MitmError } from '../errors.js';
import type { ResponseInit } from '../flow/flow.js';
import { resetConnection } from '../net/connection-reset.js';
import { isH2Response, type OutboundResponse } from './client-message.js';

// Headers some errors need to be actionable: a 407 must say which scheme to answer with (RFC 9110 §11.7.1).
const EXTRA_HEADERS: Partial<Record<ErrorCode, Record<string, string>>> = {
  proxy_auth_required: { 'proxy-authenticate': 'Basic realm="mitm"' },
};

/**
 * Answers a request with `error` as a one-line text/plain body; never a stack trace. The
 * connection is closed when a request body is still arriving, since its bytes would otherwise be
 * read as the next request. When the response head already went out, the only honest signal left is to break
 * the connection, so the client sees a truncated body rather than a wrong one. An `injected_reset`
 * is not answered: the client's connection is reset (HTTP/1.x: a TCP RST; HTTP/2: RST_STREAM on
 * this stream, INTERNAL_ERROR). Returns the answer sent, for the record; undefined when none was.
 */
export function respondWithError(res: OutboundResponse, error: MitmError): ResponseInit | undefined {
  if (error.code === 'injected_reset') {
    if (isH2Response(res)) res.stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    else resetConnection(res.socket ?? res.req.socket);
    return undefined;
  }
  if (res.headersSent) {
    res.destroy(error);
    return undefined;
  }
  // HTTP/2 has no Connection field (RFC 9113 §8.2.2): its streams end independently of one another.
  const answer = errorAnswer(error, !isH2Response(res) && bodyStillArriving(res.req));
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
  return answer;
}

/**
 * The proxy's answer to `error`, every header as sent (so the record holds what the client got): its
 * status, a text/plain body naming it, x-mitm-error, its length; `close`: with Connection: close.
 */
function errorAnswer(error: MitmError, close: boolean): ResponseInit & { readonly headers: Record<string, string>; readonly body: string } {
  const body = `${error.message}\n`;
  return {
    status: error.status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      [ERROR_HEADER]: error.code,
      ...EXTRA_HEADERS[error.code],
      ...(close ? { connection: 'close' } : {}),
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  };
}

function bodyStillArriving(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Writes `error` as a complete HTTP/1.1 response straight onto a socket and closes it (resets it,
 * for `injected_reset`). Returns the answer sent, for the record; undefined when none was.
 */
export function writeRawError(socket: Duplex, error: MitmError): ResponseInit | undefined {
  if (error.code === 'injected_reset') {
    resetConnection(socket);
    return undefined;
  }
  if (!socket.writable) {
    socket.destroy();
    return undefined;
  }
  const answer = errorAnswer(error, true);
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}\r\n` +
      Object.entries(answer.headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      `\r\n${answer.body}`,
  );
  return answer;
}
