// The web inspector over a store that another process is writing (`mitm ui --store FILE` beside
// `mitm start --store FILE`): new flows appear live. And its status bar, with real values: the
// listeners and modes, the CA fingerprint and its download (the certificate, never the key), flow
// counts, the store's size, memory. Chromium through playwright-core; the writer is a real
// `mitm start` child process, the traffic curl.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { proxySource, startUi, storeSource, type RunningUi } from '../../src/index.js';
import { openStore, type SessionStore } from '../../src/record/store/open-store.js';
import type { UiStats } from '../../src/ui/api-types.js';
import { browserSkip, launchChromium, type PageDocument } from '../helpers/browser.js';
import { CliProcess } from '../helpers/cli-process.js';
import { curlVia } from '../helpers/curl.js';
import { within } from '../helpers/deadline.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { tempDir } from '../helpers/store-flows.js';
import { startStoreOrigin, type StoreOrigin } from '../helpers/store-origin.js';
import { buildUiAssets } from '../helpers/ui.js';
import { until } from '../helpers/until.js';

// Page callbacks run in the browser; the Node compilation has no DOM lib (helpers/browser.ts).
declare const document: PageDocument;

const fingerprintOf = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** The rows' paths, in list order. */
async function rowPaths(page: Page): Promise<string[]> {
  return page.locator('.rows .row').evaluateAll((rows) => rows.map((row) => row.textContent ?? ''));
}

describe('inspector over a store another process writes', { timeout: 180_000 }, () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let origin: StoreOrigin;
  let writer: CliProcess;
  let proxyUrl: string;
  let file: string;
  let caDir: string;
  let caPem: string;
  const get = async (path: string): Promise<void> => {
    const result = await curlVia(proxyUrl, [`${origin.url}${path}`]);
    assert.equal(result.exitCode, 0, result.stderr);
  };

  before(async () => {
    temp = await tempDir('mitm-ui-live-');
    origin = await startStoreOrigin();
    file = join(temp.dir, 'live.db');
    caDir = join(temp.dir, 'ca');
    writer = new CliProcess(['start', '--port', '0', '--ca', caDir, '--store', file]);
    proxyUrl = `http://127.0.0.1:${await writer.listeningPort()}`;
    caPem = await readFile(join(caDir, 'ca.pem'), 'utf8');
    await get('/text?early');
    const reader = await openStore(file, { readonly: true });
    try {
      await until(() => reader.count() === 1, 'the first flow to be in the store', { ms: 30_000 });
    } finally {
      await reader.close();
    }
  });

  after(async () => {
    await writer?.kill();
    await origin?.close();
    await temp?.remove();
  });

  describe('in chromium', { skip: browserSkip }, () => {
    let store: SessionStore;
    let ui: RunningUi;
    let browser: Browser;
    let page: Page;

    before(async () => {
      store = await openStore(file, { readonly: true });
      ui = await startUi({ port: 0, source: storeSource(store, { caPem }), assetsDir: await buildUiAssets() });
      browser = await launchChromium();
      page = await (await browser.newContext({ acceptDownloads: true })).newPage();
      await page.goto(ui.url);
      await page.locator('.status-bar .live').waitFor();
      await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 1);
    });

    after(async () => {
      await browser?.close();
      await ui?.close();
      await store?.close();
    });

    it('shows a row for a request sent after the page loaded, and only matching ones under a filter', async () => {
      await get('/json?late');
      await page.locator('.rows .row:has-text("/json?late")').waitFor();
      await page.fill('[data-testid=filter]', 'path:/json');
      await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 1);
      await get('/text?filtered-out');
      await get('/json?filtered-in');
      await page.locator('.rows .row:has-text("/json?filtered-in")').waitFor();
      const paths = await rowPaths(page);
      assert.equal(paths.length, 2, paths.join('\n'));
      assert.ok(!paths.some((row) => row.includes('filtered-out')), paths.join('\n'));
      await page.fill('[data-testid=filter]', '');
      await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 4);
    });

    it("status bar: the CA's SHA-256 with a link that downloads its certificate, the store's flows and size, memory", async () => {
      const ca = page.locator('[data-testid=ca]');
      assert.equal(await ca.getAttribute('data-fingerprint'), fingerprintOf(caPem));
      assert.match((await ca.textContent()) ?? '', new RegExp(`^CA ${fingerprintOf(caPem).slice(0, 23)}…`));
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=ca-download]')]);
      const saved = await download.path();
      assert.ok(saved);
      const downloaded = await readFile(saved, 'utf8');
      assert.equal(downloaded, caPem);
      assert.doesNotMatch(downloaded, /PRIVATE KEY/);
      // Stats are pushed every 2 s: wait for the figures of all four flows.
      await page.locator('[data-testid=store]:has-text("4 flows")').waitFor();
      const storeText = (await page.locator('[data-testid=store]').textContent()) ?? '';
      assert.match(storeText, /^store live\.db: 4 flows, \d+(\.\d)? (KiB|MiB), read-only$/);
      assert.equal(await page.locator('[data-testid=store]').getAttribute('title'), file);
      assert.match((await page.locator('[data-testid=memory]').textContent()) ?? '', /^memory \d+\.\d MiB \(heap \d+\.\d MiB\)$/);
      assert.match((await page.locator('[data-testid=counts]').textContent()) ?? '', /^4 shown · 4 flows$/);
      assert.equal(await page.locator('[data-testid=listeners]').count(), 0, 'a store has no listeners');
    });
  });

  it('mitm ui --store FILE --ca DIR: the API gives the CA fingerprint and certificate, the store figures', async () => {
    const cli = new CliProcess(['ui', '--store', file, '--ca', caDir, '--ui-port', '0']);
    try {
      const [, url = ''] = await cli.waitForLine('stdout', /^inspector: (http:\/\/\S+)$/);
      const { origin: base, searchParams } = new URL(url);
      const headers = { authorization: `Bearer ${searchParams.get('token')}` };
      const stats = (await (await fetch(`${base}/api/v1/stats`, { headers })).json()) as UiStats;
      assert.equal(stats.caFingerprint, fingerprintOf(caPem));
      assert.equal(stats.caPath, '/api/v1/ca.pem');
      assert.equal(stats.store?.file, file);
      assert.ok((stats.store?.bytes ?? 0) > 0);
      assert.equal(stats.store?.flows, stats.flows);
      const pem = await fetch(`${base}/api/v1/ca.pem`, { headers });
      assert.equal(pem.status, 200);
      assert.equal(await pem.text(), caPem);
      cli.child.kill('SIGINT');
      assert.equal((await within(cli.exited, 'mitm ui to exit on SIGINT', 30_000)).code, 0);
    } finally {
      await cli.kill();
    }
  });
});

describe("inspector status bar over a running proxy's listeners", { skip: browserSkip, timeout: 120_000 }, () => {
  let pki: TestPki;
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let mitm: TestProxy;
  let ui: RunningUi;
  let browser: Browser;

  before(async () => {
    pki = await createTestPki();
    temp = await tempDir('mitm-ui-status-');
    mitm = await startTestProxy(pki, { mode: ['regular@0', 'transparent@0'], store: join(temp.dir, 'proxy.db') });
    ui = await startUi({ port: 0, source: proxySource(mitm.proxy), assetsDir: await buildUiAssets() });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await ui?.close();
    await mitm?.close();
    await temp?.remove();
    await pki?.cleanup();
  });

  it('lists each listener with its mode, the CA fingerprint, the store and memory', async () => {
    const page = await browser.newPage();
    await page.goto(ui.url);
    const listeners = (await page.locator('[data-testid=listeners]').textContent()) ?? '';
    const [regular, transparent] = mitm.proxy.addresses;
    assert.ok(regular && transparent);
    assert.equal(listeners, `${regular.address} (regular) · ${transparent.address} (transparent)`);
    assert.match(regular.address, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await page.locator('[data-testid=ca]').getAttribute('data-fingerprint'), fingerprintOf(mitm.caPem));
    assert.match((await page.locator('[data-testid=store]').textContent()) ?? '', /^store proxy\.db: 0 flows, \d+(\.\d)? KiB$/);
    assert.match((await page.locator('[data-testid=memory]').textContent()) ?? '', /^memory \d+\.\d MiB/);
    const ca = await page.evaluate(async () => (await fetch('/api/v1/ca.pem')).text());
    assert.equal(ca, mitm.caPem);
  });
});
