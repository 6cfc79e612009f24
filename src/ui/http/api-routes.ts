import type { IncomingMessage, ServerResponse } from 'node:http';
import { UI_API_VERSION, type UiStats } from '../api-types.js';
import { SECURITY_HEADERS, type UiAccess } from './access.js';
import { actionRoute } from './action-routes.js';
import { readAsset } from './assets.js';
import { compileOrProblem } from './filter-problem.js';
import { flowAction } from './flow-actions.js';
import { parseIdList } from '../id-list.js';
import type { UiSource } from '../sources/source.js';

/** What the routes need. */
export interface RouteContext {
  readonly source: UiSource;
  readonly access: UiAccess;
  readonly assetsDir: string;
}

const API = `/api/v${UI_API_VERSION}`;

/** The inspector's stats: the source's figures, the CA link and this process's memory. */
export function uiStats(source: UiSource): UiStats {
  const memory = process.memoryUsage();
  return {
    ...source.stats(),
    caPath: source.caPem() === undefined ? undefined : `${API}/ca.pem`,
    memory: { rss: memory.rss, heapUsed: memory.heapUsed },
  };
}

/** Answers one HTTP request to the inspector (docs/ui-api.md); never throws. */
export async function handleRequest(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  try {
    await route(req, res, ctx);
  } catch (error) {
    if (!res.headersSent) sendError(res, 500, 'ui_failed', error instanceof Error ? error.message : String(error));
    else res.destroy();
  }
}

async function route(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  const { access, source } = ctx;
  if (!access.hostAllowed(req))
    return sendError(res, 421, 'ui_host', 'this inspector answers only to its own address (Host header refused)');
  const url = new URL(req.url ?? '/', 'http://ui.invalid');
  const method = req.method ?? 'GET';
  // The token arrives once, in the URL printed at start; from then on the cookie carries it.
  const offered = url.searchParams.get('token');
  if (offered !== null && method === 'GET' && url.pathname === '/') {
    if (!access.matches(offered)) return sendError(res, 401, 'ui_token', 'wrong token: open the URL printed when the inspector started');
    url.searchParams.delete('token');
    const rest = url.searchParams.toString();
    res.writeHead(303, { ...SECURITY_HEADERS, 'set-cookie': access.cookie(), location: `/${rest === '' ? '' : `?${rest}`}` });
    res.end();
    return;
  }
  if (!access.authorized(req)) {
    return sendError(res, 401, 'ui_token', 'no access token: open the URL printed when the inspector started (it carries ?token=…)');
  }
  if (method !== 'GET' && method !== 'HEAD' && !access.originAllowed(req, false)) {
    return sendError(res, 403, 'ui_origin', 'cross-origin request refused');
  }
  const path = url.pathname;
  if (!path.startsWith('/api/')) {
    if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'ui_method', `${method} not allowed`);
    const asset = await readAsset(ctx.assetsDir, path);
    if (asset === undefined) {
      const hint = path === '/' ? ' (the front end is not built: run `npm run build`)' : '';
      return sendError(res, 404, 'ui_not_found', `no such page: ${path}${hint}`);
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length });
    res.end(method === 'HEAD' ? undefined : asset.body);
    return;
  }
  const filterText = url.searchParams.get('filter') ?? '';
  const detail = new RegExp(`^${API}/flows/(\\d{1,15})$`).exec(path);
  if (method === 'GET' && detail) {
    const flow = source.detail(Number(detail[1]));
    return flow ? sendJson(res, 200, flow) : sendError(res, 404, 'ui_not_found', `flow ${detail[1]} is not kept (any more)`);
  }
  if (method === 'GET' && (path === `${API}/flows` || path === `${API}/har`)) {
    const compiled = compileOrProblem(filterText);
    if ('problem' in compiled) return sendJson(res, 400, { error: { code: 'filter_invalid', ...compiled.problem } });
    if (path.endsWith('/har')) {
      const idText = url.searchParams.get('ids');
      const ids = idText === null ? undefined : parseIdList(idText);
      if (idText !== null && ids === undefined) {
        return sendError(res, 400, 'ui_ids', `ids=${idText.slice(0, 80)} is not a list of flow ids and ranges (1-3,7)`);
      }
      const har = JSON.stringify(source.har(compiled.predicate, ids), null, 2);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'application/json; charset=utf-8',
        'content-disposition': 'attachment; filename="mitm-flows.har"',
      });
      res.end(har);
      return;
    }
    const limit = count(url.searchParams.get('limit'));
    const offset = count(url.searchParams.get('offset'));
    return sendJson(res, 200, source.list(compiled.predicate, { limit, offset }));
  }
  if (method === 'GET' && path === `${API}/connections`) return sendJson(res, 200, { events: source.connections() });
  if (method === 'GET' && path === `${API}/stats`) return sendJson(res, 200, uiStats(source));
  if (method === 'GET' && path === `${API}/ca.pem`) {
    const pem = source.caPem();
    if (pem === undefined) return sendError(res, 404, 'ui_not_found', 'no CA certificate is known to this inspector');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'application/x-pem-file',
      'content-disposition': 'attachment; filename="mitm-ca.pem"',
    });
    res.end(pem);
    return;
  }
  if (path === `${API}/clear`) {
    if (method !== 'POST') return sendError(res, 405, 'ui_method', 'use POST');
    if (source.readOnly) return sendError(res, 409, 'ui_read_only', 'this inspector shows a store opened read-only: nothing to clear');
    source.clear();
    res.writeHead(204, SECURITY_HEADERS);
    res.end();
    return;
  }
  const action = (await flowAction(req, source, path)) ?? (await actionRoute(req, path, API, source));
  if (action?.body !== undefined) {
    if (action.close) res.setHeader('connection', 'close');
    return sendJson(res, action.status, action.body);
  }
  if (action) {
    res.writeHead(action.status, SECURITY_HEADERS);
    res.end();
    return;
  }
  return sendError(res, 404, 'ui_not_found', `no such API: ${method} ${path}`);
}

function count(value: string | null): number | undefined {
  if (value === null || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** An API error: `{ error: { code, message } }`. */
export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}
