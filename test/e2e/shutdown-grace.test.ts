// `mitm start` stopping on SIGTERM under load (issue #16): requests in flight are drained for up to
// --shutdown-grace seconds, one still busy after that is closed, the process exits 0, and the HAR
// holds every flow that completed. (SIGINT's drain without a bound is in cli-lifecycle.test.ts.)
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliProcess } from '../helpers/cli-process.js';
import { sendViaProxy } from '../helpers/client.js';
import { within } from '../helpers/deadline.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

interface HarLike {
  log: { entries: Array<{ request: { url: string }; response: { status: number } }> };
}

describe('mitm start: SIGTERM under load with --shutdown-grace', { timeout: 90_000 }, () => {
  let pki: TestPki;
  let origin: CustomOrigin;
  let scratch: string;
  const held = new Map<string, ServerResponse>();
  const heldArrived = new Map<string, () => void>();

  before(async () => {
    pki = await createTestPki();
    scratch = await mkdtemp(join(tmpdir(), 'mitm-grace-'));
    origin = await startCustomOrigin((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '/';
      if (path.startsWith('/held/')) {
        // Answered by the test, or never.
        held.set(path, res);
        heldArrived.get(path)?.();
        return;
      }
      res.end(`done ${path}`);
    });
  });
  after(async () => {
    for (const res of held.values()) res.destroy();
    await origin?.close();
    await pki?.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  function arrived(path: string): Promise<void> {
    if (held.has(path)) return Promise.resolve();
    return within(new Promise<void>((resolve) => heldArrived.set(path, resolve)), `the origin to receive ${path}`);
  }

  /** A request through the proxy that resolves with its status and body, or 'cut' if it broke off. */
  function inFlight(port: number, path: string): Promise<string> {
    return new Promise((resolve) => {
      const url = `${origin.url}${path}`;
      const req = request({ host: '127.0.0.1', port, path: url, headers: { host: new URL(url).host }, agent: new Agent() }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.once('error', () => resolve('cut'));
        res.once('end', () => resolve(`${res.statusCode} ${body}`));
      });
      req.once('error', () => resolve('cut'));
      req.end();
    });
  }

  it('drains what finishes within the grace, closes the rest after it, exits 0, and the HAR has every completed flow', async () => {
    const harFile = join(scratch, 'run.har');
    const cli = new CliProcess([
      'start',
      '--port',
      '0',
      '--quiet',
      '--ca',
      join(scratch, 'ca'),
      '--upstream-ca',
      pki.ca.certPath,
      '--har',
      harFile,
      '--shutdown-grace',
      '2',
    ]);
    try {
      const port = await cli.listeningPort();
      // Load: 20 completed exchanges, then two in flight: one the origin answers during the drain, one it never answers.
      const done = await Promise.all(Array.from({ length: 20 }, (_, i) => sendViaProxy(port, `${origin.url}/ok/${i}`)));
      assert.ok(done.every((r, i) => r.text === `done /ok/${i}`));
      const drained = inFlight(port, '/held/drained');
      const stuck = inFlight(port, '/held/stuck');
      await Promise.all([arrived('/held/drained'), arrived('/held/stuck')]);

      const signalledAt = Date.now();
      cli.child.kill('SIGTERM');
      await cli.waitForLine('stderr', /^closing \(2 connections\)/);
      held.get('/held/drained')?.end('drained');
      assert.equal(await within(drained, 'the drained request'), '200 drained');
      assert.equal(await within(stuck, 'the stuck request to be cut'), 'cut');
      const exit = await within(cli.exited, 'the process to exit');
      const tookMs = Date.now() - signalledAt;
      assert.equal(exit.code, 0, exit.stderr);
      assert.ok(tookMs >= 1_500, `exited after ${tookMs} ms: it did not wait for the grace period`);
      assert.ok(tookMs < 8_000, `exited after ${tookMs} ms: the grace of 2 s was not applied`);

      const har = JSON.parse(await readFile(harFile, 'utf8')) as HarLike;
      const urls = har.log.entries.map((e) => new URL(e.request.url).pathname);
      for (let i = 0; i < 20; i += 1) assert.ok(urls.includes(`/ok/${i}`), `the HAR lacks /ok/${i}`);
      assert.ok(urls.includes('/held/drained'), 'the HAR lacks the exchange drained during shutdown');
      assert.equal(har.log.entries.find((e) => e.request.url.endsWith('/held/drained'))?.response.status, 200);
    } finally {
      await cli.kill();
    }
  });

  it('--shutdown-grace is in --help', async () => {
    const cli = new CliProcess(['start', '--help']);
    const { code, stdout } = await within(cli.exited, 'mitm start --help');
    assert.equal(code, 0);
    assert.match(stdout, /--shutdown-grace SECONDS/);
  });
});
