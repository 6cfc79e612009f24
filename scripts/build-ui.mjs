// Bundles the web inspector's front end (src/ui/web/) into dist/ui/public/ with esbuild, and
// prints what the first load weighs gzipped (docs/ui.md). Usage: node scripts/build-ui.mjs [OUTDIR]
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'src/ui/web');
const out = process.argv[2] ?? join(root, 'dist/ui/public');

await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: join(web, 'main.tsx') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(web, 'tsconfig.json'),
  legalComments: 'none',
  logLevel: 'warning',
});
await build({ entryPoints: { app: join(web, 'styles.css') }, outdir: out, bundle: true, minify: true, logLevel: 'warning' });
await copyFile(join(web, 'index.html'), join(out, 'index.html'));

let total = 0;
const sizes = [];
for (const name of ['index.html', 'app.js', 'app.css']) {
  const bytes = await readFile(join(out, name));
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  sizes.push(`${name} ${(bytes.length / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gz)`);
}
if (!process.env.npm_config_loglevel?.startsWith('sil')) {
  process.stdout.write(`ui: ${sizes.join(', ')}; first load ${(total / 1024).toFixed(1)} KiB gzipped\n`);
}
