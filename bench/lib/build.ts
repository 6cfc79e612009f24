// Transpiles src/ and bench/ to plain JavaScript under bench/results/build/, so every proxy, the
// origin and the clients run on bare `node`: tsx's loader thread alone adds ~30 MiB of RSS, which
// would blur the memory figures. Types are not checked here (npm run typecheck does that).
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/** The project root (bench/lib/ is two levels down). */
export const ROOT = join(dirname(new URL(import.meta.url).pathname), '..', '..');
/** Where results and the transpiled tree go (git-ignored). */
export const RESULTS = join(ROOT, 'bench', 'results');
export const BUILD = join(RESULTS, 'build');

/** The built path of a project file: `bench/peers/mitm.ts` → `…/build/bench/peers/mitm.js`. */
export function built(projectPath: string): string {
  return join(BUILD, projectPath.replace(/\.ts$/, '.js'));
}

/** Transpiles every `.ts` file of src/ and bench/ (not bench/results/) into BUILD. */
export async function buildTree(): Promise<number> {
  await rm(BUILD, { recursive: true, force: true });
  const files = [...(await tsFiles(join(ROOT, 'src'))), ...(await tsFiles(join(ROOT, 'bench')))];
  for (const file of files) await transpile(file, built(relative(ROOT, file)));
  // "type": "module" for the .js files, and the version src/cli reads two levels up.
  await copyFile(join(ROOT, 'package.json'), join(BUILD, 'package.json'));
  await writeEntries(BUILD);
  return files.length;
}

// The modules the code loads by path (src/package-files.ts, ownModule): built, they are entries of
// the dist/ bundle, which this tree does not have. Without them the store's writer thread could
// not start (its module not found), and mitm-store wrote no flow at all.
const ENTRIES = ['index', 'preload/register', 'record/store/write-worker'];

/** Writes dist/PATH.js for each entry under `root`, re-exporting (and so running) the transpiled src/PATH.js. */
async function writeEntries(root: string): Promise<void> {
  for (const entry of ENTRIES) {
    const shim = join(root, 'dist', `${entry}.js`);
    await mkdir(dirname(shim), { recursive: true });
    const target = relative(dirname(shim), join(root, 'src', `${entry}.js`));
    await writeFile(shim, `export * from '${target.startsWith('.') ? target : `./${target}`}';\n`);
  }
}

/**
 * Transpiles src/ as it was at `commit` (from git) into BUILD/base, with this tree's mitm peer
 * script, so an older engine runs beside today's in one run (`npm run bench -- --base=COMMIT`);
 * its packages resolve from this tree's node_modules. Returns the root of that build.
 */
export async function buildBase(commit: string): Promise<string> {
  const root = join(BUILD, 'base');
  const scratch = await mkdtemp(join(tmpdir(), 'mitm-bench-base-'));
  try {
    const archive = execFileSync('git', ['-C', ROOT, 'archive', commit, 'src'], { maxBuffer: 256 * 2 ** 20 });
    execFileSync('tar', ['-x', '-C', scratch], { input: archive });
    for (const file of await tsFiles(join(scratch, 'src')))
      await transpile(file, join(root, relative(scratch, file).replace(/\.ts$/, '.js')));
    for (const file of ['bench/peers/mitm.ts', 'bench/peers/peer-io.ts']) {
      await transpile(join(ROOT, file), join(root, file.replace(/\.ts$/, '.js')));
    }
    await copyFile(join(ROOT, 'package.json'), join(root, 'package.json'));
    await writeEntries(root);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return root;
}

async function transpile(file: string, out: string): Promise<void> {
  const source = await readFile(file, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, outputText);
}

async function tsFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== RESULTS) found.push(...(await tsFiles(path)));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      found.push(path);
    }
  }
  return found;
}
