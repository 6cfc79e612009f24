import type { IncomingMessage } from 'node:http';
import { isMitmError } from '../../errors.js';
import { MAX_IMPORT_BYTES, UI_API_VERSION, type ImportResult } from '../api-types.js';
import type { UiSource } from '../sources/source.js';

/** What an action answers: a status and a JSON body (none: an empty answer); `close` ends the connection (a body left unread). */
export interface ActionAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly close?: boolean;
}

const API = `/api/v${UI_API_VERSION}`;
const PIN = new RegExp(`^${API}/flows/(\\d{1,15})/pin$`);

const failure = (status: number, code: string, message: string): ActionAnswer => ({ status, body: { error: { code, message } } });

/**
 * The API's actions on flows beside reading them: pin and unpin (`/flows/ID/pin`), import a HAR
 * (`/import`). Returns the answer when `path` is one of them, else undefined; access is checked by the caller.
 */
export async function flowAction(req: IncomingMessage, source: UiSource, path: string): Promise<ActionAnswer | undefined> {
  const method = req.method ?? 'GET';
  const pin = PIN.exec(path);
  if (pin) {
    if (method !== 'POST' && method !== 'DELETE') return failure(405, 'ui_method', 'use POST to pin, DELETE to unpin');
    if (source.readOnly) return failure(409, 'ui_read_only', 'this inspector shows a store opened read-only: nothing to pin');
    const id = Number(pin[1]);
    const pinned = method === 'POST';
    return source.pin(id, pinned)
      ? { status: 200, body: { id, pinned } }
      : failure(404, 'ui_not_found', `flow ${id} is not kept (any more)`);
  }
  if (path !== `${API}/import`) return undefined;
  if (method !== 'POST') return failure(405, 'ui_method', 'use POST with the HAR file as the body');
  if (source.readOnly) return failure(409, 'ui_read_only', 'this inspector shows a store opened read-only: nothing can be imported');
  return importHar(req, source);
}

async function importHar(req: IncomingMessage, source: UiSource): Promise<ActionAnswer> {
  const name = new URL(req.url ?? '/', 'http://ui.invalid').searchParams.get('name')?.slice(0, 200) || 'the file';
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = (what: string): ActionAnswer => ({
    ...failure(413, 'ui_too_large', `${name} is ${what}; the inspector imports HAR files up to ${MAX_IMPORT_BYTES} bytes`),
    close: true,
  });
  if (declared > MAX_IMPORT_BYTES) return tooLarge(`${declared} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_IMPORT_BYTES) return tooLarge(`over ${MAX_IMPORT_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    const added = source.importHar(Buffer.concat(chunks).toString('utf8'), name);
    const result: ImportResult = { imported: added.length, ids: added.map((flow) => flow.id) };
    return { status: 200, body: result };
  } catch (error) {
    if (isMitmError(error) && error.code === 'config_invalid') return failure(400, 'har_invalid', error.message);
    throw error;
  }
}
