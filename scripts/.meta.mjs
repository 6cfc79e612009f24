import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
const r = await build({ absWorkingDir: process.cwd(), entryPoints: { 'cli/main': 'src/cli/main.ts', index: 'src/index.ts', 'preload/register': 'src/preload/register.ts', 'record/store/write-worker': 'src/record/store/write-worker.ts' },
  outdir: '/tmp/su/meta-out', bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20', chunkNames: 'chunks/[name]-[hash]', external: ['better-sqlite3', 'tsx', 'tsx/*'], metafile: true, write: false, keepNames: true, logLevel: 'error' });
writeFileSync('/tmp/su/meta.json', JSON.stringify(r.metafile));
