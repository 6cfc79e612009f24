#!/usr/bin/env node
// The CLI's entry. memory-tuning.ts must set V8's flags before the rest of the CLI is even parsed:
// every static import of a module is parsed before its first line runs, so the dispatcher (and
// with it zod and the config schema) is imported only once the flags are set.
import './memory-tuning.js';

await import('./dispatch.js');
