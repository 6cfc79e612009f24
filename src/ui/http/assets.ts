import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { packageRoot } from '../../package-files.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/**
 * Where the built front end lives: the package's `dist/ui/public/`, also when the server runs from
 * `src/` (tsx, tests): the folder of the last `npm run build`.
 */
export function defaultAssetsDir(): string {
  return join(packageRoot(), 'dist', 'ui', 'public');
}

/** A static file of the front end: its bytes and type; undefined for anything outside the folder or missing. */
export async function readAsset(dir: string, path: string): Promise<{ body: Buffer; type: string } | undefined> {
  const name = path === '/' ? 'index.html' : path.replace(/^\/+/, '');
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) return undefined;
  const file = normalize(join(dir, name));
  const type = TYPES[/\.[a-z]+$/i.exec(name)?.[0] ?? ''];
  if (type === undefined) return undefined;
  try {
    return { body: await readFile(file), type };
  } catch {
    return undefined;
  }
}
