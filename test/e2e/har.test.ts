import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliProcess } from '../helpers/cli-process.js';
import { lineText, startContentOrigin, type ContentOrigin } from '../helpers/content-origin.js';
import { curlVia } from '../helpers/curl.js';
import { validateHar, type ValidHar } from '../helpers/har-schema.js';
import { bigBytes, startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

type Entry = ValidHar['log']['entries'][number];

// `mitm start --har FILE`: the HAR written on SIGUSR2 and at exit, as curl's traffic recorded it.
describe('mitm start --har', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let httpsOrigin: Origin;
  let contentOrigin: ContentOrigin;
  let scratch: string;
  /** A port nothing listens on. */
  let deadPort: number;

  before(async () => {
    pki = await createTestPki();
    httpsOrigin = await startOrigin(pki.origin);
    contentOrigin = await startContentOrigin();
    scratch = await mkdtemp(path.join(tmpdir(), 'mitm-har-'));
    const probe: Server = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    deadPort = (probe.address() as { port: number }).port;
    probe.close();
    await once(probe, 'close');
  });

  after(async () => {
    await httpsOrigin?.close();
    await contentOrigin?.close();
    await pki?.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  /** Reads and validates the HAR file. */
  const readHar = async (file: string): Promise<ValidHar> => validateHar(JSON.parse(await readFile(file, 'utf8')));
  const entryFor = (har: ValidHar, url: string): Entry => {
    const found = har.log.entries.find((entry) => entry.request.url === url);
    assert.ok(found, `no entry for ${url} in ${har.log.entries.map((entry) => entry.request.url).join(', ')}`);
    return found;
  };

  it('writes on SIGUSR2 without stopping, then again at SIGTERM with every flow, leaving no temp file', async (t) => {
    const harDir = path.join(scratch, 'out');
    await mkdir(harDir);
    const harFile = path.join(harDir, 'flows.har');
    const caDir = path.join(scratch, 'ca');
    const cli = new CliProcess(['start', '--port', '0', '--har', harFile, '--ca', caDir, '--upstream-ca', pki.ca.certPath]);
    t.after(() => cli.kill());
    const proxyUrl = `http://127.0.0.1:${await cli.listeningPort()}`;
    const caPath = path.join(caDir, 'ca.pem');

    const jsonUrl = `https://localhost:${httpsOrigin.port}/echo?via=har`;
    const gzipUrl = `${contentOrigin.url}/gzip?bytes=5000`;
    const binaryUrl = `https://localhost:${httpsOrigin.port}/big?bytes=3000`;
    const refusedUrl = `http://127.0.0.1:${deadPort}/nothing`;
    const json = JSON.stringify({ order: 42, items: ['tea', 'café'] });
    const posted = await curlVia(proxyUrl, ['-H', 'content-type: application/json', '--data-binary', json, jsonUrl], caPath);
    assert.equal(posted.status, 200, posted.stderr);
    const gzipped = await curlVia(proxyUrl, [gzipUrl]);
    assert.equal(gzipped.status, 200, gzipped.stderr);
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    const binary = await curlVia(proxyUrl, [binaryUrl], caPath);
    assert.equal(binary.status, 200, binary.stderr);
    const refused = await curlVia(proxyUrl, [refusedUrl]);
    assert.equal(refused.status, 502);
    // The log line is printed as the flow is recorded, so after these the HAR must hold all four.
    for (const url of [jsonUrl, gzipUrl, binaryUrl, refusedUrl]) await cli.waitForLine('stdout', new RegExp(`^\\S+ ${escapeRegExp(url)} `));

    cli.child.kill('SIGUSR2');
    const wrote = await cli.waitForLine('stderr', /^wrote (\d+) flows to (.+)$/);
    assert.equal(wrote[1], '4');
    assert.equal(wrote[2], harFile);
    const first = await readHar(harFile);
    assert.equal(first.log.entries.length, 4);
    assert.equal(first.log.creator.name, 'mitm');

    const post = entryFor(first, jsonUrl);
    assert.equal(post.request.method, 'POST');
    assert.equal(post.request.postData?.mimeType, 'application/json');
    assert.equal(post.request.postData?.text, json);
    assert.equal(post.request.bodySize, Buffer.byteLength(json));
    assert.deepEqual(post.request.queryString, [{ name: 'via', value: 'har' }]);
    assert.equal(post.response.status, 200);
    assert.equal((JSON.parse(post.response.content.text ?? '') as EchoBody).body, json);
    assert.equal(post.serverIPAddress, '127.0.0.1');

    const gzip = entryFor(first, gzipUrl);
    assert.ok(gzip.response.headers.some((h) => h.name.toLowerCase() === 'content-encoding' && h.value === 'gzip'));
    assert.equal(gzip.response.content.text, lineText(5000), 'the HAR holds the decoded text');
    assert.equal(gzip.response.content.encoding, undefined);
    assert.equal(gzip.response.content.size, 5000);
    assert.equal(gzip.response.bodySize, gzipped.body.length);
    assert.equal(gzip.response.content.compression, 5000 - gzipped.body.length);

    const bin = entryFor(first, binaryUrl);
    assert.equal(bin.response.content.encoding, 'base64');
    assert.deepEqual(Buffer.from(bin.response.content.text ?? '', 'base64'), Buffer.from(bigBytes(0, 3000)));
    assert.equal(bin.response.content.mimeType, 'application/octet-stream');

    // What curl got: our 502, its x-mitm-error and body; the code in _error too.
    const failed = entryFor(first, refusedUrl);
    assert.equal(failed.response.status, 502);
    assert.equal(failed.response.statusText, 'Bad Gateway');
    assert.ok(failed.response.headers.some((h) => h.name.toLowerCase() === 'x-mitm-error' && h.value === 'upstream_refused'));
    assert.equal(failed.response.content.mimeType, 'text/plain; charset=utf-8');
    assert.match(failed.response.content.text ?? '', new RegExp(`127\\.0\\.0\\.1:${deadPort}`));
    assert.equal(failed._error?.code, 'upstream_refused');
    assert.match(failed._error?.message ?? '', new RegExp(`127\\.0\\.0\\.1:${deadPort}`));

    // Still running: one more flow after the snapshot, then stop.
    const laterUrl = `${contentOrigin.url}/gzip?bytes=10`;
    assert.equal((await curlVia(proxyUrl, [laterUrl])).status, 200);
    await cli.waitForLine('stdout', new RegExp(`^GET ${escapeRegExp(laterUrl)} 200 `));
    cli.child.kill('SIGTERM');
    const { code, stderr } = await cli.exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, new RegExp(`^wrote 5 flows to ${escapeRegExp(harFile)}$`, 'm'));
    const last = await readHar(harFile);
    assert.deepEqual(last.log.entries.map((entry) => entry.request.url).sort(), [jsonUrl, gzipUrl, binaryUrl, refusedUrl, laterUrl].sort());
    assert.deepEqual(await readdir(harDir), ['flows.har'], 'no temp file may be left behind');
  });

  it('refuses to start when the HAR folder does not exist', async () => {
    const missing = path.join(scratch, 'no-such-folder', 'flows.har');
    const cli = new CliProcess(['start', '--port', '0', '--har', missing, '--ca', path.join(scratch, 'ca-missing')]);
    const { code, stdout, stderr } = await cli.exited;
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /^mitm: cannot write the HAR to .*no-such-folder.*: the folder .*no-such-folder does not exist$/m);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
