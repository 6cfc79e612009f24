// `mitm tail` and `mitm flows --follow`: a second process printing the flows a running
// `mitm start --store FILE` writes, as it writes them. Both are real CLI processes; the traffic is
// curl through the proxy to a local origin.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/record/store/open-store.js';
import { CliProcess } from '../helpers/cli-process.js';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { tempDir } from '../helpers/store-flows.js';
import { startStoreOrigin, type StoreOrigin } from '../helpers/store-origin.js';
import { until } from '../helpers/until.js';

/** Stops a CLI process with SIGINT and returns how it ended. */
async function interrupt(cli: CliProcess) {
  cli.child.kill('SIGINT');
  return within(cli.exited, 'the CLI to exit after SIGINT', 30_000);
}

describe('mitm tail and mitm flows --follow', { timeout: 180_000 }, () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let origin: StoreOrigin;
  let proxy: CliProcess;
  let proxyUrl: string;
  let store: string;
  let caDir: string;
  const started: CliProcess[] = [];
  const cli = (args: readonly string[]): CliProcess => {
    const process = new CliProcess(args);
    started.push(process);
    return process;
  };
  const get = async (path: string): Promise<void> => {
    const result = await curlVia(proxyUrl, [`${origin.url}${path}`]);
    assert.equal(result.exitCode, 0, result.stderr);
  };
  /** The proxy's own line for the flow to `path` (what tail must print the same way). */
  const proxyLine = async (path: string): Promise<string> => {
    const escaped = path.replace(/[?/]/g, '\\$&');
    return (await proxy.waitForLine('stdout', new RegExp(`^GET ${origin.url}${escaped} `))).input;
  };

  before(async () => {
    temp = await tempDir('mitm-tail-');
    origin = await startStoreOrigin();
    store = join(temp.dir, 'live.db');
    caDir = join(temp.dir, 'ca');
    proxy = cli(['start', '--port', '0', '--ca', caDir, '--store', store]);
    proxyUrl = `http://127.0.0.1:${await proxy.listeningPort()}`;
  });

  after(async () => {
    for (const process of started) await process.kill();
    await origin?.close();
    await temp?.remove();
  });

  it('prints new flows as the proxy prints them, only those the filter matches, and stops on SIGINT', async () => {
    // Written before tail starts: tail begins at the end of the store, so this one is not printed.
    await get('/text?before');
    const reader = await openStore(store, { readonly: true });
    try {
      await until(() => reader.query('path:/text').length === 1, 'the first flow to be in the store', { ms: 30_000 });
    } finally {
      await reader.close();
    }
    const tail = cli(['tail', '--store', store, 'status:404', 'OR', 'path:/json']);
    await tail.waitForLine('stderr', /^mitm tail: following .*live\.db after flow 1; Ctrl-C stops$/);
    await get('/json');
    await get('/text');
    await get('/missing');
    const missing = await tail.waitForLine('stdout', /\/missing 404 /);
    assert.equal(missing.input, await proxyLine('/missing'));
    assert.deepEqual(tail.lines.stdout, [await proxyLine('/json'), await proxyLine('/missing')]);
    const exit = await interrupt(tail);
    assert.equal(exit.code, 0, exit.stderr);
    assert.doesNotMatch(exit.stdout, /\/text/);
  });

  it('flows --follow --last 1 prints the newest stored flow first, then new ones, as JSON with the detail', async () => {
    const follow = cli(['flows', '--follow', '--store', store, '--last', '1', '--log-format', 'json', '--flow-detail', '3']);
    await follow.waitForLine('stderr', /^mitm tail: following /);
    await get('/json?after');
    await follow.waitForLine('stdout', /"url":"[^"]*\/json\?after"/);
    const [newest, next] = follow.lines.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(follow.lines.stdout.length, 2);
    assert.match(String(newest?.url), /\/missing$/);
    assert.equal(newest?.status, 404);
    assert.match(String(next?.url), /\/json\?after$/);
    assert.deepEqual(next?.responseBody, {
      size: 34,
      type: 'application/json',
      text: JSON.stringify({ version: 1, path: '/json?after' }, null, 2),
      truncated: false,
      binary: false,
    });
    assert.ok(Array.isArray(next?.responseHeaders));
    assert.equal((await interrupt(follow)).code, 0);
  });

  it('waits for a store that does not exist yet, and follows it once a proxy creates it', async () => {
    const later = join(temp.dir, 'later.db');
    const tail = cli(['tail', '--store', later]);
    await tail.waitForLine('stderr', /^mitm tail: waiting for .*later\.db to be created/);
    const second = cli(['start', '--port', '0', '--ca', caDir, '--store', later]);
    const port = await second.listeningPort();
    await tail.waitForLine('stderr', /^mitm tail: following .*later\.db after flow 0/);
    const result = await curlVia(`http://127.0.0.1:${port}`, [`${origin.url}/text?later`]);
    assert.equal(result.exitCode, 0, result.stderr);
    const { input: line } = await tail.waitForLine('stdout', /\/text\?later 200 /);
    assert.equal(line, (await second.waitForLine('stdout', /\/text\?later 200 /)).input);
    assert.equal((await interrupt(tail)).code, 0);
    await interrupt(second);
  });

  it('refuses a bad filter (usage, 2) and a store in a folder that does not exist (1), naming them', async () => {
    const bad = cli(['tail', '--store', store, 'stauts:404']);
    const badExit = await within(bad.exited, 'tail with a bad filter to exit', 30_000);
    assert.equal(badExit.code, 2);
    assert.match(badExit.stderr, /invalid filter at column 1: unknown field "stauts"/);
    const nowhere = cli(['tail', '--store', join(temp.dir, 'no-such-folder', 'x.db')]);
    const nowhereExit = await within(nowhere.exited, 'tail on a missing folder to exit', 30_000);
    assert.equal(nowhereExit.code, 1);
    assert.match(nowhereExit.stderr, /no-such-folder does not exist/);
  });
});
