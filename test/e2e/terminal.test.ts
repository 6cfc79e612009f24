import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { within } from '../helpers/deadline.js';
import { CliProcess } from '../helpers/cli-process.js';
import { curlVia } from '../helpers/curl.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { run } from '../helpers/run.js';

// The terminal as an inspector (issue 14): --flow-detail, --log-filter, marks and stock hooks as flags.
let origin: CustomOrigin;
let scratch = '';
let base = '';

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'mitm-terminal-'));
  origin = await startCustomOrigin((req, res) => {
    if (req.url === '/json') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-origin': 'yes' });
      res.end('{"user":{"id":7,"name":"Ada"},"tags":["a","b"]}');
      return;
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(64 * 1024) });
      res.end(Buffer.alloc(64 * 1024, 0x61));
      return;
    }
    if (req.url === '/upload') {
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      req.on('end', () => res.end(String(size)));
      return;
    }
    if (req.url === '/binary') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.alloc(3000, 0x89));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-seen-auth': req.headers.authorization ?? '-' });
    res.end('x'.repeat(5000));
  });
  base = `http://127.0.0.1:${origin.port}`;
});
after(async () => {
  await origin.close();
  await rm(scratch, { recursive: true, force: true });
});

/** Starts `mitm start` on a free port with its own CA folder, plus `args`; returns it and its proxy URL. */
async function startMitm(args: readonly string[]): Promise<{ cli: CliProcess; proxy: string }> {
  const cli = new CliProcess(['start', '--port', '0', '--ca', path.join(scratch, 'ca'), ...args]);
  // In json mode stdout carries flows only, so the ready line is on stderr.
  const port = await cli.listeningPort(args.includes('json') ? 'stderr' : 'stdout');
  return { cli, proxy: `http://127.0.0.1:${port}` };
}

/** The CLI's usage error for `args` (exit 2), as printed. */
async function usageError(args: readonly string[]): Promise<string> {
  const result = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--ca', path.join(scratch, 'ca'), ...args], {
    env: { DEBUG: '' },
  });
  assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
  return result.stderr;
}

describe('mitm start --flow-detail', () => {
  test('3 prints headers and bodies: JSON pretty-printed, text cut at --detail-body-limit, binary as size and type', async () => {
    const { cli, proxy } = await startMitm(['--flow-detail', '3', '--detail-body-limit', '100']);
    try {
      assert.match(cli.lines.stdout[0] ?? '', /^listening on http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)$/);
      await curlVia(proxy, [`${base}/json`]);
      await cli.waitForLine('stdout', /^GET http:\/\/127\.0\.0\.1:\d+\/json 200 application\/json /);
      await cli.waitForLine('stdout', /^ {4}< +"name": "Ada"$/);
      const text = cli.lines.stdout.join('\n');
      assert.match(text, /^ {4}> host: 127\.0\.0\.1:\d+$/im);
      assert.match(text, /^ {4}< x-origin: yes$/m);
      await curlVia(proxy, [`${base}/plain`]);
      await cli.waitForLine('stdout', /^ {4}< … \(5\.0 kB in all\)$/);
      assert.ok(cli.lines.stdout.includes(`    < ${'x'.repeat(100)}`), cli.lines.stdout.join('\n'));
      await curlVia(proxy, [`${base}/binary`]);
      await cli.waitForLine('stdout', /^ {4}< \(binary body, image\/png, 3\.0 kB\)$/);
    } finally {
      await cli.kill();
    }
  });

  test('0 prints nothing per flow; json carries the same detail as fields', async () => {
    const quiet = await startMitm(['--flow-detail', '0', '--block', 'path:/plain']);
    try {
      await curlVia(quiet.proxy, [`${base}/plain`]);
      await curlVia(quiet.proxy, [`${base}/json`]);
    } finally {
      await quiet.cli.kill();
    }
    assert.deepEqual(
      quiet.cli.lines.stdout.filter((line) => !line.startsWith('listening on')),
      [],
    );

    const { cli, proxy } = await startMitm(['--flow-detail', '3', '--log-format', 'json']);
    try {
      await curlVia(proxy, [`${base}/json`]);
      const { input } = await cli.waitForLine('stdout', /^\{.*"url":"http:\/\/127\.0\.0\.1:\d+\/json"/);
      const record = JSON.parse(input) as { responseHeaders: unknown[]; responseBody: { text: string; type: string } };
      assert.ok(record.responseHeaders.some((pair) => JSON.stringify(pair) === '["x-origin","yes"]'));
      assert.equal(record.responseBody.type, 'application/json');
      assert.deepEqual(JSON.parse(record.responseBody.text), { user: { id: 7, name: 'Ada' }, tags: ['a', 'b'] });
    } finally {
      await cli.kill();
    }
  });
});

describe('mitm start --log-filter and marks', () => {
  test('only matching flows print; blocked, mocked and hook-changed flows say so; the hooks are listed at start', async () => {
    const mockFile = path.join(scratch, 'users.json');
    await writeFile(mockFile, '[{"id":1}]');
    const { cli, proxy } = await startMitm([
      '--log-filter=-path:/json',
      '--block',
      'path:/ads*',
      '--mock',
      `path:/users=201:${mockFile}`,
      '--set-header',
      'path:/plain:req:authorization=Bearer t',
      '--set-header',
      'res:x-origin=',
    ]);
    try {
      await cli.waitForLine('stderr', /^hooks: block, mock, set-header ×2$/);
      const blocked = await curlVia(proxy, [`${base}/ads/1`]);
      assert.equal(blocked.status, 403);
      assert.equal(blocked.headers['x-mitm-error'], 'blocked');
      const mocked = await curlVia(proxy, [`${base}/users`]);
      assert.equal(mocked.status, 201);
      assert.equal(mocked.text, '[{"id":1}]');
      assert.equal(mocked.headers['content-type'], 'application/json');
      const changed = await curlVia(proxy, [`${base}/plain`]);
      assert.equal(changed.headers['x-seen-auth'], 'Bearer t');
      const json = await curlVia(proxy, [`${base}/json`]);
      assert.equal(json.headers['x-origin'], undefined);
      await cli.waitForLine('stdout', /^GET http:\/\/127\.0\.0\.1:\d+\/ads\/1 403 .* \[blocked\]$/);
      await cli.waitForLine('stdout', /^GET http:\/\/127\.0\.0\.1:\d+\/users 201 .* \[mock\]$/);
      await cli.waitForLine('stdout', /^GET http:\/\/127\.0\.0\.1:\d+\/plain 200 .* \[modified by set-header\]$/);
      // The last request was answered before its line would print: it did not, being filtered out.
      assert.ok(!cli.lines.stdout.some((line) => line.includes(`${base}/json `)), cli.lines.stdout.join('\n'));
    } finally {
      await cli.kill();
    }
  });

  test('bad filters and hook flags are usage errors naming the flag and the bad part', async () => {
    assert.match(await usageError(['--log-filter', 'status:abc']), /^mitm: --log-filter "status:abc": invalid filter at column \d+/);
    assert.match(await usageError(['--block', 'host:(']), /^mitm: --block "host:\(": invalid filter at column \d+/);
    assert.match(
      await usageError(['--set-header', 'authorization=x']),
      /^mitm: --set-header "authorization=x": expected \[FILTER:\]req\|res:NAME=VALUE/,
    );
    assert.match(await usageError(['--mock', 'path:/x=999']), /^mitm: --mock "path:\/x=999": status 999 is not 100–599/);
    assert.match(
      await usageError(['--map-remote', 'api.test=http://127.0.0.1:1/']),
      /^mitm: --map-remote "api\.test=http:\/\/127\.0\.0\.1:1\/": "api\.test" is not an http/,
    );
    assert.match(await usageError(['--flow-detail', '5']), /^mitm: .*--flow-detail must be 0–4, got 5$/m);
  });
});

describe('hook files outside the project', () => {
  test("import … from 'mitm' resolves to the running package", async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'mitm-outside-hooks-'));
    try {
      const file = path.join(folder, 'stamp.mjs');
      await writeFile(
        file,
        "import { setHeaders, isMitmError } from 'mitm';\nexport default setHeaders({ request: { authorization: typeof isMitmError } });\n",
      );
      const cli = new CliProcess(['start', '--port', '0', '--ca', path.join(scratch, 'ca'), '--hook', file], { cwd: folder });
      try {
        const port = await cli.listeningPort();
        const result = await curlVia(`http://127.0.0.1:${port}`, [`${base}/plain`]);
        assert.equal(result.headers['x-seen-auth'], 'function');
        await cli.waitForLine('stderr', /^hooks: setHeaders \(.*stamp\.mjs\)$/);
      } finally {
        await cli.kill();
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

/** GETs `url` through the proxy with Node's http client; when the first and the last body bytes arrived (ms after the request). */
function timedGet(proxy: string, url: string): Promise<{ first: number; last: number; bytes: number }> {
  const { port } = new URL(proxy);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(port), path: url, headers: { host: new URL(url).host } }, (res) => {
      let first = -1;
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        if (first < 0) first = performance.now() - started;
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ first, last: performance.now() - started, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('mitm start --throttle', () => {
  test('a 64 KiB body at 256k takes at least 1.5 s and arrives progressively, both ways', async () => {
    const { cli, proxy } = await startMitm(['--throttle', 'path:/big OR path:/upload:256k']);
    try {
      await cli.waitForLine('stderr', /^hooks: throttle$/);
      const download = await within(timedGet(proxy, `${base}/big`), 'the throttled download', 20_000);
      assert.equal(download.bytes, 64 * 1024);
      assert.ok(download.last >= 1500, `took only ${Math.round(download.last)} ms`);
      assert.ok(download.first < download.last / 2, `first bytes at ${Math.round(download.first)} ms of ${Math.round(download.last)} ms`);
      const started = performance.now();
      const upload = await curlVia(proxy, ['--data-binary', `@${await bigFile()}`, `${base}/upload`]);
      assert.equal(upload.text, String(64 * 1024));
      assert.ok(performance.now() - started >= 1500, 'the upload was slowed too');
      await cli.waitForLine('stdout', /\/big 200 .* \[throttled\]$/);
      // Not matched by the filter: full speed.
      const plain = await within(timedGet(proxy, `${base}/plain`), 'the unthrottled download', 20_000);
      assert.ok(plain.last < 1500, `an unmatched flow took ${Math.round(plain.last)} ms`);
    } finally {
      await cli.kill();
    }
  });

  test('--fail answers a share of matching requests 502 without the origin', async () => {
    const { cli, proxy } = await startMitm(['--fail', 'path:/plain:100%']);
    try {
      const before = origin.requestCount();
      const failed = await curlVia(proxy, [`${base}/plain`]);
      assert.equal(failed.status, 502);
      assert.equal(failed.headers['x-mitm-error'], 'injected_failure');
      assert.equal(origin.requestCount(), before);
      await cli.waitForLine('stdout', /\/plain 502 .* \[failed on purpose\]$/);
    } finally {
      await cli.kill();
    }
    assert.match(await usageError(['--fail', 'path:/x:150%']), /^mitm: --fail "path:\/x:150%": share "150%": expected 0–1/);
  });

  test('--fail …,reset resets the connection, and the flow line says injected_reset', async () => {
    const { cli, proxy } = await startMitm(['--fail', 'path:/plain:100%,reset']);
    try {
      const reset = await curlVia(proxy, [`${base}/plain`]);
      assert.equal(reset.exitCode, 56, reset.stderr);
      assert.match(reset.stderr, /reset by peer/i);
      await cli.waitForLine('stdout', /\/plain --- injected_reset .*\(reset on purpose \(failRequests\)\) \[failed on purpose\]$/);
    } finally {
      await cli.kill();
    }
    assert.match(
      await usageError(['--fail', '10%,explode']),
      /^mitm: --fail "10%,explode": expected \[FILTER:\]SHARE\[,502\|timeout\|reset\]/,
    );
  });

  test('a bad rate is a usage error naming the flag', async () => {
    assert.match(
      await usageError(['--throttle', '12 parsecs']),
      /^mitm: --throttle "12 parsecs": rate "12 parsecs": expected bits per second/,
    );
  });
});

async function bigFile(): Promise<string> {
  const file = path.join(scratch, 'upload.bin');
  await writeFile(file, Buffer.alloc(64 * 1024, 0x62));
  return file;
}
