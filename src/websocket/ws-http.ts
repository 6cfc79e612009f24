// The HTTP side of an upgrade: response heads written straight onto the client's socket (after an
// 'upgrade' event there is no ServerResponse), and the rebuilt head of upgrades we do not handle.
import { STATUS_CODES, validateHeaderName, validateHeaderValue, type IncomingMessage } from 'node:http';
import { pipeline, type Duplex } from 'node:stream';
import { MitmError } from '../errors.js';
import type { FlowResponse } from '../flow/flow.js';
import type { H2Response } from '../exchange/h2-client.js';
import { respondWithError, writeRawError } from '../exchange/error-response.js';
import { h2FromRaw } from '../flow/h2-headers.js';
import { frameBody } from '../exchange/framing.js';

/** The head of the 101 as sent to the client: Upgrade and Connection first, then the origin's fields. */
export function upgradeHead(upgrade: string, fields: readonly string[]): string[] {
  return ['Upgrade', upgrade, 'Connection', 'Upgrade', ...fields];
}

/**
 * Writes a response head onto a raw socket. Fields a hook made invalid (a CR or LF in a value)
 * are refused as Node's own writeHead would: the client gets a 500 instead. False then.
 */
export function writeHead(socket: Duplex, response: FlowResponse, fields: readonly string[]): boolean {
  let head = `HTTP/1.1 ${response.status} ${response.statusMessage ?? STATUS_CODES[response.status] ?? ''}\r\n`;
  try {
    if (/[\r\n]/.test(response.statusMessage ?? '')) throw new Error('the status message holds a line break');
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i] as string;
      const value = fields[i + 1] as string;
      validateHeaderName(name);
      validateHeaderValue(name, value);
      head += `${name}: ${value}\r\n`;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    writeRawError(socket, new MitmError('hook_failed', `the response head cannot be sent: ${reason}`, { cause: error }));
    return false;
  }
  socket.write(`${head}\r\n`, 'latin1');
  return true;
}

/** What a sent response reports: body bytes as they go, and the error that broke the body off, if one did. */
export interface SendTally {
  readonly count: (bytes: number) => void;
  readonly broke: (error: Error) => void;
}

/** Sends a non-101 response (the origin refused, or a hook answered), then closes the connection. */
export function sendPlainResponse(socket: Duplex, response: FlowResponse, tally: SendTally): void {
  const body = response.bodyStore.outgoing();
  response.bodyStore.recordSent(body);
  // Without a length the body ends with the connection (RFC 9112 §6.3), which closes anyway.
  const fields = [...frameBody(response.wireHeaders(), body, false), 'Connection', 'close'];
  if (!writeHead(socket, response, fields)) {
    if (body.kind === 'stream') body.stream.destroy();
    return;
  }
  if (body.kind === 'bytes') {
    tally.count(body.data.length);
    socket.end(body.data);
    return;
  }
  body.stream.on('data', (chunk: Buffer) => tally.count(chunk.length));
  pipeline(body.stream, socket, (error) => error && tally.broke(error));
}

/** Sends a refusal (or a hook's answer) to an RFC 8441 WebSocket stream of an HTTP/2 client. */
export function sendH2Response(res: H2Response, response: FlowResponse, tally: SendTally): void {
  const body = response.bodyStore.outgoing();
  response.bodyStore.recordSent(body);
  try {
    res.writeHead(response.status, h2FromRaw(frameBody(response.wireHeaders(), body, false)));
  } catch (error) {
    if (body.kind === 'stream') body.stream.destroy();
    const reason = error instanceof Error ? error.message : String(error);
    respondWithError(res, new MitmError('hook_failed', `the response head cannot be sent: ${reason}`, { cause: error }));
    return;
  }
  if (body.kind === 'bytes') {
    tally.count(body.data.length);
    res.end(body.data);
    return;
  }
  body.stream.on('data', (chunk: Buffer) => tally.count(chunk.length));
  pipeline(body.stream, res.stream, (error) => error && tally.broke(error));
}

/**
 * The request head again, without Upgrade and the Connection token naming it, for an upgrade the
 * proxy does not speak (h2c, say): the HTTP parser then reads it, and its body, as a plain request.
 */
export function withoutUpgrade(req: IncomingMessage): Buffer {
  let head = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    let value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'upgrade') continue;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && token.toLowerCase() !== 'upgrade')
        .join(', ');
      if (value === '') continue;
    }
    head += `${name}: ${value}\r\n`;
  }
  // Node decodes header bytes as latin1, so encoding them back that way restores them exactly.
  return Buffer.from(`${head}\r\n`, 'latin1');
}
