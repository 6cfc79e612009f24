import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { describeFlags } from '../../src/cli/flags.js';
import { CliOptionsSchema } from '../../src/config/schema.js';

test("the README's `mitm start` table lists every flag of `mitm start --help`", async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = readme.split('\n').filter((line) => line.startsWith('| `--'));
  for (const spec of describeFlags(CliOptionsSchema)) {
    const usage = spec.arg === undefined ? spec.flag : `${spec.flag} ${spec.arg}`;
    assert.ok(
      rows.some((row) => row.startsWith(`| \`${usage}\` |`)),
      `README.md has no table row for ${usage}`,
    );
  }
});
