// Bundles the CLI and the library (src/) into dist/ with esbuild; `npm run build` then adds the
// type declarations (tsc) and the inspector's front end (build-ui.mjs). Why a bundle: Node's ES
// module loader resolves, reads and compiles each file on its own, and `mitm start` used to load
// ~290 of them (95 of them zod's) before its ready line (docs/performance.md, "Start-up").
//
// One build, four entry points sharing chunks (dist/chunks/), so a hook file's `import 'mitm'`
// (dist/index.js, see hooks/mitm-alias.ts) gets the very classes the CLI runs with: MitmError,
// the stock hooks, Flow. The other two are loaded by path: the Node preload of `mitm run`
// (dist/preload/register.js) and the store's writer thread (dist/record/store/write-worker.js);
// package-files.ts names them. `import()` in the sources becomes a chunk loaded on demand.
//
// Packages are bundled too (zod alone was 95 files), except better-sqlite3 (a native addon),
// tsx (an optional peer, loaded only for .ts hooks) and node-forge (required with createRequire
// on first use, so esbuild never sees it): each stays a runtime dependency in node_modules.
// Source maps sit beside each file; with DEBUG=1 main.ts turns Node's source-map support on, so stack traces
// name src/ files and lines. Usage: node scripts/build-dist.mjs [OUTDIR]
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'dist');

// Whatever an older build left (the unbundled tree tsc used to write) must not shadow the bundle.
await rm(out, { recursive: true, force: true });
// Bundled CommonJS packages (undici, ws...) call require() for Node's modules; an ES module has
// no require of its own, so the files that need one get it from this first line.
const BANNER = "import { createRequire as __mitmRequire } from 'node:module'; const require = __mitmRequire(import.meta.url);";
const result = await build({
  absWorkingDir: root,
  entryPoints: {
    'cli/main': 'src/cli/main.ts',
    index: 'src/index.ts',
    'preload/register': 'src/preload/register.ts',
    'record/store/write-worker': 'src/record/store/write-worker.ts',
  },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['better-sqlite3', 'tsx', 'tsx/*'],
  banner: { js: BANNER },
  sourcemap: 'linked',
  // Maps point at src/ (and node_modules/) by path; the sources themselves are not copied in.
  sourcesContent: false,
  // Names kept as written: stack traces, and the hook and class names printed in errors.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

// Only the chunk holding esbuild's __require shim calls require; every other file gets its banner
// line emptied (not removed, so the source maps still fit): a createRequire per chunk cost 2-9 ms
// of start-up for the ~30 chunks loaded before the ready line (docs/performance.md, "Start-up").
for (const file of Object.keys(result.metafile.outputs)) {
  if (!file.endsWith('.js')) continue;
  const path = join(root, file);
  const text = await readFile(path, 'utf8');
  if (!/\brequire\b/.test(text.replace(BANNER, ''))) await writeFile(path, text.replace(BANNER, ''));
}
