import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isMitmError } from '../../src/errors.js';
import type { Har } from '../../src/record/har-types.js';
import { assertHarWritable, writeHarFile } from '../../src/record/write-har.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mitm-write-har-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const har = (entries: number): Har => ({
  log: {
    version: '1.2',
    creator: { name: 'mitm', version: '0.0.0' },
    pages: [],
    entries: Array.from({ length: entries }, (_, i) => ({
      startedDateTime: new Date(i).toISOString(),
      time: 0,
      request: {
        method: 'GET',
        url: `http://a.test/${i}`,
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: [],
        queryString: [],
        headersSize: -1,
        bodySize: 0,
      },
      response: {
        status: 200,
        statusText: 'OK',
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: [],
        content: { size: 0, mimeType: 'text/plain', text: '' },
        redirectURL: '',
        headersSize: -1,
        bodySize: 0,
      },
      cache: {},
      timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
      connection: '1',
      _id: 1,
      _tags: [],
      _mode: 'regular',
    })),
  },
});

test('writes parseable JSON equal to the HAR, readable by its owner only, replacing the old file', async () => {
  const file = join(dir, 'a.har');
  await writeHarFile(file, har(3));
  await writeHarFile(file, har(2));
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), har(2));
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await writeHarFile(file, har(0));
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), har(0));
  assert.deepEqual(await readdir(dir), ['a.har']);
});

test('a missing folder or a folder in the way is har_write_failed, and leaves no temp file', async () => {
  const missing = join(dir, 'nope', 'x.har');
  for (const attempt of [() => writeHarFile(missing, har(1)), () => assertHarWritable(missing)]) {
    await assert.rejects(attempt(), (error: unknown) => {
      assert.ok(isMitmError(error) && error.code === 'har_write_failed');
      assert.match(error.message, /cannot write the HAR to .*x\.har: the folder .*nope does not exist/);
      return true;
    });
  }
  const blocked = join(dir, 'blocked');
  await mkdir(join(blocked, 'x.har'), { recursive: true });
  await assert.rejects(writeHarFile(join(blocked, 'x.har'), har(1)), { code: 'har_write_failed' });
  await assert.rejects(assertHarWritable(join(blocked, 'x.har')), /x\.har is a folder/);
  assert.deepEqual(await readdir(blocked), ['x.har']);
});
