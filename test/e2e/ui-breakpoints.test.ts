// Breakpoints and edit-and-replay in the web inspector, in a real browser (Debian's chromium
// through playwright-core), over real proxies with real traffic from curl.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { proxySource, startUi, type RunningUi } from '../../src/index.js';
import { browserSkip, launchChromium } from '../helpers/browser.js';
import { curl, type CurlResult } from '../helpers/curl.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { buildUiAssets } from '../helpers/ui.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

interface Received {
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly edit: string | null;
  readonly version: string | null;
  readonly body: string;
}
const received: Received[] = [];

/** Records each request; /v answers 201 with x-version: 2 when asked for version 2, else 200 with x-version: 1. */
function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const seen: Received = {
      method: req.method,
      path: req.url,
      edit: (req.headers['x-edit'] as string | undefined) ?? null,
      version: (req.headers['x-version'] as string | undefined) ?? null,
      body: Buffer.concat(chunks).toString(),
    };
    received.push(seen);
    if (req.url === '/v') {
      const v2 = seen.version === '2';
      res.writeHead(v2 ? 201 : 200, { 'content-type': 'text/plain', 'x-version': v2 ? '2' : '1' }).end(`version ${v2 ? 2 : 1}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen));
  });
}

function shownText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the assertions are about.
  return locator.innerText();
}

/** Appends a line to a textarea as a user would: the existing text stays. */
async function appendLine(locator: Locator, line: string): Promise<void> {
  const text = await locator.inputValue();
  await locator.fill(`${text}\n${line}`);
}

describe('breakpoints and replay in chromium', { skip: browserSkip, timeout: 180_000 }, () => {
  let pki: TestPki;
  let origin: CustomOrigin;
  let mitm: TestProxy;
  let short: TestProxy;
  let ui: RunningUi;
  let shortUi: RunningUi;
  let browser: Browser;
  let page: Page;
  const through = (proxy: TestProxy, path: string, extra: string[] = []): Promise<CurlResult> =>
    curl(['--proxy', proxy.url, '--cacert', proxy.caPath, `${origin.url}${path}`, ...extra]);

  before(async () => {
    pki = await createTestPki();
    origin = await startCustomOrigin(handler, { cert: pki.origin.cert, key: pki.origin.key });
    mitm = await startTestProxy(pki);
    short = await startTestProxy(pki, { breakTimeout: 1000 });
    const assetsDir = await buildUiAssets();
    ui = await startUi({ port: 0, source: proxySource(mitm.proxy), assetsDir });
    shortUi = await startUi({ port: 0, source: proxySource(short.proxy), assetsDir });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(ui.url);
    await page.locator('.status-bar .live').waitFor();
  });

  after(async () => {
    await browser?.close();
    await ui?.close();
    await shortUi?.close();
    await mitm?.close();
    await short?.close();
    await origin?.close();
    await pki?.cleanup();
  });

  it('holds a request at a breakpoint; an edit in the page reaches the origin; Resume completes it', async () => {
    await page.fill('[data-testid=bp-filter]', 'path:/api*');
    await page.click('[data-testid=bp-add]');
    await page.locator('[data-testid=bp-rule]:has-text("path:/api*")').waitFor();
    const answer = through(mitm, '/api/item', ['--data-binary', 'from-client']);
    const row = page.locator('.held-row:has-text("/api/item")');
    await row.waitFor();
    assert.match(await shownText(row), /request · POST https:\/\/localhost:\d+\/api\/item/);
    const listed = page.locator('.rows .row:has-text("/api/item")');
    assert.match(await shownText(listed.locator('.c-marks')), /‖/, 'the held flow is marked in the list');
    await listed.click();
    const editor = page.locator('[data-testid=held-editor]');
    await editor.waitFor();
    assert.equal(await page.inputValue('[data-testid=editor-method]'), 'POST');
    assert.equal(await page.inputValue('[data-testid=editor-body]'), 'from-client');
    await appendLine(page.locator('[data-testid=editor-headers]'), 'x-edit: from-the-page');
    await page.fill('[data-testid=editor-body]', 'edited in the page');
    await page.screenshot({ path: `${DOCS}ui-breakpoint.png` });
    await page.click('[data-testid=held-resume]');
    const result = await answer;
    assert.equal(result.status, 200);
    const seen = JSON.parse(result.text) as Received;
    assert.equal(seen.edit, 'from-the-page');
    assert.equal(seen.body, 'edited in the page');
    assert.equal(seen.method, 'POST');
    await editor.waitFor({ state: 'detached' });
    assert.equal(await page.locator('.held-row').count(), 0);
    await page.click('[data-testid=bp-rule] button');
    await page.locator('[data-testid=bp-rule]').waitFor({ state: 'detached' });
  });

  it('a held flow nobody releases times out, and the client sees the error', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(shortUi.url);
      await other.locator('.status-bar .live').waitFor();
      await other.fill('[data-testid=bp-filter]', 'path:/slow');
      await other.click('[data-testid=bp-add]');
      await other.locator('[data-testid=bp-rule]').waitFor();
      const result = await through(short, '/slow');
      assert.equal(result.status, 504);
      assert.equal(result.headers['x-mitm-error'], 'breakpoint_timeout');
      assert.match(result.text, /\/slow was held at a breakpoint \(request\) and not released within 1000 ms/);
      assert.equal(received.filter((seen) => seen.path === '/slow').length, 0, 'the origin never saw it');
      await other.locator('.rows .row:has-text("/slow") .c-status:has-text("504")').waitFor();
      assert.equal(await other.locator('.held-row').count(), 0);
    } finally {
      await other.close();
    }
  });

  it('edit-and-replay creates a new flow whose edit the origin received, with a diff of status and headers', async () => {
    assert.equal((await through(mitm, '/v')).status, 200);
    await page.click('.rows .row:has-text("/v")');
    await page.locator('[data-testid=detail] .url:has-text("/v")').waitFor();
    await page.click('[data-testid=replay-edit]');
    await appendLine(page.locator('[data-testid=editor-headers]'), 'x-version: 2');
    const before = received.length;
    await page.click('[data-testid=replay-send]');
    const diff = page.locator('[data-testid=replay-diff]');
    await diff.waitFor();
    assert.equal(received.length, before + 1);
    assert.equal(received[before]?.version, '2', 'the origin received the edit');
    assert.match(await shownText(page.locator('[data-testid=diff-status]')), /200 → 201/);
    const headers = await shownText(page.locator('[data-testid=diff-headers]'));
    assert.match(headers, /- x-version: 1/);
    assert.match(headers, /\+ x-version: 2/);
    assert.match(await shownText(page.locator('[data-testid=diff-body]')), /- version 1\n\+ version 2/);
    const rows = page.locator('.rows .row:has-text("/v")');
    // The replay's answer can come before the push that lists its flow (batched every 100 ms).
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2, 'the new flow is next to the original');
    assert.match(await shownText(rows.nth(1).locator('.c-marks')), /↻/);
    await page.screenshot({ path: `${DOCS}ui-replay.png` });
  });
});
