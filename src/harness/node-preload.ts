// Where the Node preload (src/preload/register.ts) lives, and the NODE_OPTIONS that load it.
// `--import` rather than `--require`: the package is ESM (and so are the proxy agents the preload
// uses), and every Node we support accepts `--import` in NODE_OPTIONS. The value is a file URL, so
// spaces and quotes in the path are percent-encoded and NODE_OPTIONS needs no quoting of its own.
import { FROM_SOURCE, ownModule } from '../package-files.js';

/**
 * The `--import` flags that load the preload. From dist, that is dist/preload/register.js. From
 * source (tests and `node --import tsx src/cli/main.ts`), no .js exists, so the TypeScript file is
 * loaded through tsx's loader, which then also applies to the child program: acceptable in
 * development, and never the case for an installed package.
 */
export function preloadImports(): string[] {
  const register = ownModule('preload/register');
  if (!FROM_SOURCE) return ['--import', register.href];
  // Resolved from our own folder: the child may run anywhere, where a bare `tsx` would not resolve.
  return ['--import', import.meta.resolve('tsx'), '--import', register.href];
}

/** `existing` NODE_OPTIONS plus the preload flags; the user's own options keep their place first. */
export function withPreload(existing: string | undefined): string {
  const ours = preloadImports().join(' ');
  // A nested `mitm run` would otherwise stack a second copy of the same preload.
  if (existing?.includes(ours)) return existing;
  return existing === undefined || existing.trim() === '' ? ours : `${existing} ${ours}`;
}
