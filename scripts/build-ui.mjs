// Bundles the web inspector's front end (src/ui/web/) into dist/ui/public/ with esbuild, and
// prints what the first load weighs gzipped and what the chunks loaded on demand (the highlighter)
// add (docs/ui.md). Usage: node scripts/build-ui.mjs [OUTDIR]
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'src/ui/web');
const out = process.argv[2] ?? join(root, 'dist/ui/public');

await mkdir(out, { recursive: true });
// Chunk names carry a hash: clear the old ones out of a reused folder.
for (const name of await readdir(out)) if (name.startsWith('chunk-')) await rm(join(out, name));
const { metafile } = await build({
  entryPoints: { app: join(web, 'main.tsx') },
  metafile: true,
  outdir: out,
  bundle: true,
  minify: true,
  // ES modules so `import()` splits rarely used parts (the highlighter) into chunks of their own.
  format: 'esm',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(web, 'tsconfig.json'),
  legalComments: 'none',
  logLevel: 'warning',
});
await build({ entryPoints: { app: join(web, 'styles.css') }, outdir: out, bundle: true, minify: true, logLevel: 'warning' });
await copyFile(join(web, 'index.html'), join(out, 'index.html'));

const weigh = async (names) => {
  let total = 0;
  const sizes = [];
  for (const name of names) {
    const bytes = await readFile(join(out, name));
    const gz = gzipSync(bytes, { level: 9 }).length;
    total += gz;
    sizes.push(`${name} ${(bytes.length / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gz)`);
  }
  return { total, sizes };
};
// The first load is the page, app.js with the chunks it imports statically, and app.css; the rest
// is fetched by `import()` when first needed.
const outputs = Object.entries(metafile.outputs).map(([path, output]) => ({ name: basename(path), output }));
const app = outputs.find(({ name }) => name === 'app.js');
const eager = new Set(app.output.imports.filter((i) => i.kind === 'import-statement').map((i) => basename(i.path)));
const first = await weigh(['index.html', 'app.js', ...eager, 'app.css']);
const later = await weigh(outputs.map(({ name }) => name).filter((name) => name.startsWith('chunk-') && !eager.has(name)));
if (!process.env.npm_config_loglevel?.startsWith('sil')) {
  process.stdout.write(
    `ui: ${first.sizes.join(', ')}; first load ${(first.total / 1024).toFixed(1)} KiB gzipped; ` +
      `on demand: ${later.sizes.join(', ') || 'nothing'} (${(later.total / 1024).toFixed(1)} KiB gzipped)\n`,
  );
}
