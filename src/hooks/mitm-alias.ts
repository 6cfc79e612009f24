import { register } from 'node:module';
import { ownModule } from '../package-files.js';
import { processFlags } from '../v8-flags.js';

// The resolve hook, as a data: URL so it needs no file of its own next to either src/ or dist/.
// It runs on Node's loader thread; `initialize` receives the running package's entry point, and
// sets again the V8 flags the process set for itself: the first register() starts that thread, and
// its heap's set-up puts them back to V8's defaults for the whole process (../v8-flags.ts).
const RESOLVER = `
import { setFlagsFromString } from 'node:v8';
let target;
export function initialize(data) {
  target = data.target;
  for (const flag of data.flags) setFlagsFromString(flag);
}
export async function resolve(specifier, context, next) {
  if (specifier === 'mitm') return { url: target, shortCircuit: true };
  return next(specifier, context);
}
`;

let registered = false;

/**
 * Makes `import … from 'mitm'` in hook files resolve to the running package (src/index.ts from
 * source, dist/index.js when installed), wherever the file lives: a hook folder outside the
 * project need not install mitm, and its MitmError and stock hooks are the proxy's own. ESM
 * imports only (`require('mitm')` in a CommonJS hook still needs the package installed).
 */
export async function registerMitmAlias(): Promise<void> {
  const target = ownModule('index').href;
  if (!registered) {
    registered = true;
    register(`data:text/javascript,${encodeURIComponent(RESOLVER)}`, { data: { target, flags: processFlags() } });
  }
  // Loaded here, through the loaders that loaded us (tsx when running from src/): a hook's
  // `import 'mitm'` then finds it in the module cache. The CLI does not load the library's
  // index at start-up, and a .ts index resolved by the alias alone would not be compiled.
  await import(target);
}
