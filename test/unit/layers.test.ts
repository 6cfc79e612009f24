// The layering of src/ (docs/architecture.md): a module imports only from its own folder or from
// a folder on a lower layer, never from one above it, so each folder can be read and changed
// knowing only what lies beneath it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

// Lower numbers sit lower. Root files are placed one by one: errors.ts, package-files.ts (where
// the package's own files are) and v8-flags.ts (the V8 flags the process set itself) at the bottom, events.ts
// just above flow/ (the 'flow' event carries the Flow; every layer from hooks/ up may name an
// event), index.ts, the public API, on top.
const LAYERS: Readonly<Record<string, number>> = {
  'errors.ts': 0,
  'package-files.ts': 0,
  'v8-flags.ts': 0,
  net: 1,
  config: 2,
  ca: 2,
  flow: 2,
  'events.ts': 2.5,
  hooks: 3,
  record: 3,
  harness: 3,
  origin: 4,
  exchange: 5,
  tls: 6,
  inbound: 7,
  websocket: 8,
  metrics: 8,
  // The inspector reads flows and events; the proxy wiring and the CLI start it.
  ui: 9,
  proxy: 10,
  preload: 10,
  cli: 11,
  'index.ts': 11,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

// A file's unit: its top folder under src/, or its own name at the root.
function unitOf(file: string): string {
  const [first = ''] = relative(SRC, file).split('/');
  return first;
}

test('every folder of src/ has a layer', () => {
  const units = new Set(sourceFiles(SRC).map(unitOf));
  const missing = [...units].filter((unit) => LAYERS[unit] === undefined);
  assert.deepEqual(missing, [], `add these to LAYERS: ${missing.join(', ')}`);
});

test('no module imports from a layer above its own, nor from a sibling on the same layer', () => {
  const wrong: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = unitOf(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = unitOf(resolve(dirname(file), match[1] ?? ''));
      if (to === from) continue;
      const [a = -1, b = -1] = [LAYERS[from], LAYERS[to]];
      if (b >= a) wrong.push(`${relative(SRC, file)} imports ${match[1]} (${from} ${a} → ${to} ${b})`);
    }
  }
  assert.deepEqual(wrong, []);
});
