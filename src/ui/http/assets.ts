import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/**
 * Where the built front end lives: `dist/ui/public/` beside the compiled server's folder, or, when
 * the server runs from `src/` (tsx, tests), the same folder of the last `npm run build`.
 */
export function defaultAssetsDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, '../public'), join(here, '../../../dist/ui/public')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? (candidates[0] as string);
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
