import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

const MARKER = '<!-- The block below must equal test/e2e/qa-guide-example.test.ts';

// The guide's example is the e2e test CI runs, so the doc cannot promise code that does not work.
test('the example in docs/qa-harness.md is test/e2e/qa-guide-example.test.ts, verbatim', async () => {
  const doc = await readFile(new URL('../../docs/qa-harness.md', import.meta.url), 'utf8');
  const example = await readFile(new URL('../e2e/qa-guide-example.test.ts', import.meta.url), 'utf8');
  const start = doc.indexOf(MARKER);
  assert.notEqual(start, -1, 'the marker comment before the example is missing');
  const block = /\n```ts\n([\s\S]*?)```\n/.exec(doc.slice(start));
  assert.ok(block?.[1], 'no ```ts block after the marker');
  // The only difference allowed: readers import the package, the test imports the source.
  assert.ok(example.includes("from '../../src/index.js';"), 'the example imports ../../src/index.js');
  assert.equal(block[1], example.replace("from '../../src/index.js';", "from 'mitm';"));
});
