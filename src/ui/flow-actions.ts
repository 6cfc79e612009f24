import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_IMPORT_BYTES, UI_API_VERSION, type ImportResult } from './api-types.js';
import { describeError, sendError, sendJson } from './api-routes.js';
import type { UiSource } from './source.js';

const API = `/api/v${UI_API_VERSION}`;
const PIN = new RegExp(`^${API}/flows/(\\d{1,15})/pin$`);

/**
 * The API's actions on flows beside reading them: pin and unpin (`/flows/ID/pin`), import a HAR
 * (`/import`). Answers and returns true when `path` is one of them; access is checked by the caller.
 */
export async function flowActionRoute(req: IncomingMessage, res: ServerResponse, source: UiSource, path: string): Promise<boolean> {
  const method = req.method ?? 'GET';
  const pin = PIN.exec(path);
  if (pin) {
    if (method !== 'POST' && method !== 'DELETE') sendError(res, 405, 'ui_method', 'use POST to pin, DELETE to unpin');
    else if (source.readOnly) sendError(res, 409, 'ui_read_only', 'this inspector shows a store opened read-only: nothing to pin');
    else {
      const id = Number(pin[1]);
      const pinned = method === 'POST';
      if (source.pin(id, pinned)) sendJson(res, 200, { id, pinned });
      else sendError(res, 404, 'ui_not_found', `flow ${id} is not kept (any more)`);
    }
    return true;
  }
  if (path === `${API}/import`) {
    if (method !== 'POST') sendError(res, 405, 'ui_method', 'use POST with the HAR file as the body');
    else if (source.readOnly) sendError(res, 409, 'ui_read_only', 'this inspector shows a store opened read-only: nothing can be imported');
    else await importRoute(req, res, source);
    return true;
  }
  return false;
}

async function importRoute(req: IncomingMessage, res: ServerResponse, source: UiSource): Promise<void> {
  const name = new URL(req.url ?? '/', 'http://ui.invalid').searchParams.get('name')?.slice(0, 200) || 'the file';
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_IMPORT_BYTES) {
    res.setHeader('connection', 'close');
    return sendError(
      res,
      413,
      'ui_too_large',
      `${name} is ${declared} bytes; the inspector imports HAR files up to ${MAX_IMPORT_BYTES} bytes`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_IMPORT_BYTES) {
      res.setHeader('connection', 'close');
      return sendError(res, 413, 'ui_too_large', `${name} is over ${MAX_IMPORT_BYTES} bytes, the most the inspector imports`);
    }
    chunks.push(chunk);
  }
  try {
    const added = source.importHar(Buffer.concat(chunks).toString('utf8'), name);
    const result: ImportResult = { imported: added.length, ids: added.map((flow) => flow.id) };
    sendJson(res, 200, result);
  } catch (error) {
    const { code, message } = describeError(error);
    sendError(res, code === 'config_invalid' ? 400 : 500, code === 'config_invalid' ? 'har_invalid' : code, message);
  }
}
