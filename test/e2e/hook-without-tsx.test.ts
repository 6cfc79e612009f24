// tsx is an optional peer dependency: an install without it runs everything but .ts hooks, and a
// .ts hook then fails with a message that says what to install. The built CLI (dist/, made by
// `npm ci`) runs from a scratch copy whose node_modules holds every package but tsx and esbuild.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LEFT_OUT = new Set(['tsx', 'esbuild', '@esbuild', 'get-tsconfig', 'resolve-pkg-maps']);

describe('hook files without tsx installed', { timeout: 60_000 }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mitm-no-tsx-'));
    await cp(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const modules = join(dir, 'node_modules');
    await cp(join(ROOT, 'node_modules', '.package-lock.json'), join(modules, '.package-lock.json'));
    for (const name of await readdir(join(ROOT, 'node_modules'))) {
      if (!LEFT_OUT.has(name) && !name.startsWith('.')) await symlink(join(ROOT, 'node_modules', name), join(modules, name));
    }
    await writeFile(join(dir, 'hook.ts'), "export default { name: 'typed', onRequest(): void {} };\n");
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a .ts hook fails with the install hint; the rest of the CLI runs', async () => {
    const main = join(dir, 'dist', 'cli', 'main.js');
    const ts = await run(process.execPath, [main, 'start', '--port', '0', '--ca', join(dir, 'ca'), '--hook', 'hook.ts'], { cwd: dir });
    assert.equal(ts.code, 1, ts.stderr);
    assert.match(ts.stderr, /cannot load hook file \S+hook\.ts: .*a \.ts hook needs tsx, which is not installed: run `npm install tsx`/);

    const init = await run(process.execPath, [main, 'ca', 'init', '--ca', join(dir, 'ca-init')], { cwd: dir });
    assert.equal(init.code, 0, init.stderr);
  });
});
