// Imported first by the CLI (main.ts) for its side effect: WebAssembly compiled after this, which in
// a mitm process is undici's HTTP/1.1 parser (llhttp), stays on V8's baseline compiler (Liftoff).
// V8 otherwise recompiles the parser's hot functions with TurboFan on background threads once
// bodies flow, and that compilation's scratch memory stays with glibc's per-thread arenas: ~30
// MiB of the proxy's RSS from the first large download on, for no measurable speed (keep-alive and
// download CPU per transfer side by side, docs/performance.md, "Download memory").
// The flag is read when a module is compiled, hence a module of its own, imported before anything
// that loads undici. Library users choose for their own process (`node --liftoff-only`).
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
