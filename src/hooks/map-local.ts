import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Flow } from '../flow/flow.js';
import type { Hook } from './types.js';
import { urlMatcher } from './url-pattern.js';

// Enough to make browsers and fetch() treat local files like the real thing; the rest is bytes.
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
};

/**
 * A hook that answers requests under `urlPrefix` from local disk instead of the origin. For a
 * folder, the rest of the URL path (query dropped, percent-decoded) names a file inside it,
 * `index.html` for a folder; a path escaping the folder gets 403, a missing file 404. For a
 * single file, only `urlPrefix` itself (with any query) is answered. `fileOrFolder` is resolved
 * against the working directory and looked at per request, so it may change while the proxy runs.
 */
export function mapLocal(urlPrefix: string, fileOrFolder: string): Hook {
  const root = path.resolve(fileOrFolder);
  const matcher = urlMatcher(`${urlPrefix}*`);
  return {
    name: 'mapLocal',
    async onRequest(flow) {
      const rest = matcher.match(flow.request.url)?.[0];
      if (rest === undefined) return;
      const relative = rest.replace(/[?#].*$/s, '');
      const folder = (await stat(root).catch(() => undefined))?.isDirectory() ?? false;
      if (!folder) {
        // A file mapping covers exactly one URL: `/app.js` must not also answer `/app.json`.
        if (relative === '') await serve(flow, root);
        return;
      }
      let decoded: string;
      try {
        decoded = decodeURIComponent(relative);
      } catch {
        answer(flow, 400, `malformed percent-encoding in ${flow.request.url}`);
        return;
      }
      const file = path.resolve(root, `.${path.sep}${decoded}`);
      // Resolve first, then check: `..`, `%2e%2e%2f` and absolute paths all end up here.
      if (file !== root && !file.startsWith(root + path.sep)) {
        answer(flow, 403, `${flow.request.url} points outside the mapped folder`);
        return;
      }
      const isFolder = (await stat(file).catch(() => undefined))?.isDirectory() ?? false;
      await serve(flow, isFolder ? path.join(file, 'index.html') : file);
    },
  };
}

async function serve(flow: Flow, file: string): Promise<void> {
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    // Missing, unreadable, a folder, a NUL in the name: to the client all of them are "not here".
    answer(flow, 404, `${flow.request.url} is mapped to ${file}, which cannot be read`);
    return;
  }
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  flow.respond({ status: 200, headers: { 'content-type': type }, body });
  flow.tags.add('map-local');
}

function answer(flow: Flow, status: number, message: string): void {
  flow.respond({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${message}\n` });
  flow.tags.add('map-local');
}
