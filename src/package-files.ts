// Where the running package's own files are. Built, the code runs from esbuild's bundle
// (scripts/build-dist.mjs): any module may sit in dist/cli/main.js, dist/index.js or a shared
// chunk under dist/chunks/, so a path relative to a module's own URL would depend on where the
// bundler put it. From source (tsx: tests, `node --import tsx src/cli/main.ts`), modules are
// the .ts files under src/. Either way the package root is the nearest folder up holding a
// package.json, and the files below are named from there.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** True when running from the TypeScript sources (through tsx), false from the built dist/. */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');

let root: string | undefined;

/** The package's root folder: the one holding its package.json (the project, or node_modules/mitm). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  root = dir;
  return root;
}

/**
 * The URL of one of our modules that is loaded by path (`index`, `preload/register`,
 * `record/store/write-worker`: each an entry point of the bundle), by its path under src/
 * without extension: src/PATH.ts from source, dist/PATH.js built.
 */
export function ownModule(path: string): URL {
  return pathToFileURL(join(packageRoot(), FROM_SOURCE ? `src/${path}.ts` : `dist/${path}.js`));
}

/** The package's package.json, as a path. */
export function packageJsonPath(): string {
  return join(packageRoot(), 'package.json');
}
