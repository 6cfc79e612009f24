#!/usr/bin/env node
// The CLI's entry. memory-tuning.ts must set V8's flags before the rest of the CLI is even parsed:
// every static import of a module is parsed before its first line runs, so the dispatcher (and
// with it zod and the config schema) is imported only once the flags are set.
import './memory-tuning.js';

// The built CLI is a bundle (scripts/build-dist.mjs) with a source map beside each file: stack
// traces (DEBUG=1, crashes) then name the src/ files and lines, not the bundle's.
if (process.env.DEBUG) process.setSourceMapsEnabled(true);
await import('./dispatch.js');
