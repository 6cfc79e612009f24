// The web inspector in a real browser (Debian's chromium through playwright-core), over a real
// proxy with real traffic from curl and a WebSocket client.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { HttpProxyAgent } from 'http-proxy-agent';
import type { Browser, Locator, Page } from 'playwright-core';
import { proxySource, startUi, type RunningUi } from '../../src/index.js';
import { browserSkip, launchChromium, type PageDocument } from '../helpers/browser.js';
import { curl } from '../helpers/curl.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { run } from '../helpers/run.js';
import { buildUiAssets } from '../helpers/ui.js';
import { openClient } from '../helpers/ws-client.js';
import { startWsOrigin, type WsOrigin } from '../helpers/ws-origin.js';

// Page callbacks run in the browser; the Node compilation has no DOM lib (helpers/browser.ts).
declare const document: PageDocument;

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAKklEQVR42mP8z8Dwn4EIwDiqkL5qGhgY/jMwMDAwMjIyMDIyMhBrwKgCAPZVBwoZ8xj2AAAAAElFTkSuQmCC',
  'base64',
);
const DATA = { name: 'mitm', items: [1, 2, 3], nested: { ok: true, note: 'pretty' } };

function handler(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const path = new URL(req.url ?? '/', 'http://o.invalid').pathname;
  if (path === '/data.json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(DATA));
  else if (path === '/pixel.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PIXEL);
  else if (path === '/missing') res.writeHead(404, { 'content-type': 'text/plain' }).end('no');
  else if (path === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end('event: greeting\nid: 1\ndata: first event\n\n: a comment\ndata: line one\ndata: line two\n\n');
  } else if (path === '/boom') res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
  else res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
}

/** An element's text as the user sees it: cells of a row apart, line breaks where the layout has them, hidden parts left out. */
function shownText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text the assertions are about; textContent would run table cells together and include hidden text.
  return locator.innerText();
}

const rowCount = (page: Page): Promise<number> => page.locator('.rows .row').count();

describe('web inspector in chromium', { skip: browserSkip, timeout: 180_000 }, () => {
  let pki: TestPki;
  let origin: CustomOrigin;
  let wsOrigin: WsOrigin;
  let mitm: TestProxy;
  let ui: RunningUi;
  let browser: Browser;
  let page: Page;
  const through = (path: string, extra: string[] = []) =>
    curl(['--proxy', mitm.url, '--cacert', mitm.caPath, `${origin.url}${path}`, ...extra]);

  before(async () => {
    pki = await createTestPki();
    origin = await startCustomOrigin(handler, { cert: pki.origin.cert, key: pki.origin.key });
    wsOrigin = await startWsOrigin();
    mitm = await startTestProxy(pki, { passthrough: ['127.0.0.1'] });
    ui = await startUi({ port: 0, source: proxySource(mitm.proxy), assetsDir: await buildUiAssets() });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
    page = await context.newPage();
    await page.goto(ui.url);
  });

  after(async () => {
    await browser?.close();
    await ui?.close();
    await mitm?.close();
    await wsOrigin?.close();
    await origin?.close();
    await pki?.cleanup();
  });

  it('drops the token from the address bar and shows rows as flows end', async () => {
    assert.doesNotMatch(page.url(), /token=/);
    await page.locator('.status-bar .live').waitFor();
    for (const path of ['/data.json', '/pixel.png', '/missing', '/boom', '/hello']) assert.equal((await through(path)).exitCode, 0);
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length >= 5);
    const statuses = await page.locator('.rows .row .c-status').allTextContents();
    assert.deepEqual(statuses.sort(), ['200', '200', '200', '404', '500']);
    assert.equal(await page.locator('.rows .row .c-status.s5').count(), 1);
  });

  it('narrows the list as a filter is typed, keeps it in the URL across a reload, underlines errors', async () => {
    await page.fill('[data-testid=filter]', 'status:>=400');
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 2);
    assert.match(page.url(), /q=status%3A%3E%3D400/);
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 2);
    assert.equal(await page.inputValue('[data-testid=filter]'), 'status:>=400');
    await page.fill('[data-testid=filter]', 'status:>=400 stauts:4');
    await page.locator('[data-testid=filter-problem]').waitFor();
    assert.match(await shownText(page.locator('[data-testid=filter-problem]')), /did you mean status/);
    assert.equal(await shownText(page.locator('.filter-error-mark')), 'stauts');
    assert.equal(await rowCount(page), 2, 'the last good filter stays applied');
    await page.click('.chip:has-text("JSON")');
    assert.equal(await page.inputValue('[data-testid=filter]'), 'status:>=400 stauts:4 type:json');
    await page.fill('[data-testid=filter]', '');
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 5);
  });

  it('shows a JSON response pretty and foldable', async () => {
    await page.click('.rows .row:has-text("/data.json")');
    const tree = page.locator('[data-testid=json-tree]');
    await tree.waitFor();
    const text = await shownText(tree);
    assert.match(text, /"name": "mitm"/);
    assert.match(text, /"note": "pretty"/);
    assert.match(await shownText(page.locator('[data-testid=response-headers]')), /content-type\s+application\/json/);
    await page.screenshot({ path: `${DOCS}ui-detail.png` });
  });

  it('renders an image response', async () => {
    await page.click('.rows .row:has-text("/pixel.png")');
    const image = page.locator('[data-testid=body-image]');
    await image.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=body-image]')?.naturalWidth === 16);
  });

  it('shows the TLS facts of an HTTPS flow and its timings as a waterfall', async () => {
    // The first request to the origin: its origin connection was opened for it.
    await page.click('.rows .row:has-text("/data.json")');
    await page.locator('[data-testid=detail] .url:has-text("/data.json")').waitFor();
    await page.click('[data-tab=timing]');
    const client = page.locator('[data-testid=tls-client]');
    await client.waitFor();
    assert.match(await shownText(client), /SNI\s+localhost/);
    assert.match(await shownText(client), /ALPN\s+(h2|http\/1\.1) \(offered: /);
    const originSide = await shownText(page.locator('[data-testid=tls-origin]'));
    assert.match(originSide, /Issuer\s+mitm e2e test root CA/);
    assert.match(originSide, /Certificate subject\s+localhost/);
    const waterfall = page.locator('[data-testid=waterfall]');
    for (const phase of ['connect', 'tls', 'wait', 'receive']) {
      assert.equal(await waterfall.locator(`tr[data-phase=${phase}] .bar`).count(), 1, `a ${phase} bar`);
    }
    assert.match(await shownText(page.locator('[data-testid=origin-connection]')), /^New origin connection/);
  });

  it('copies a request as curl that, run, gets the same status', async () => {
    await page.click('.rows .row:has-text("/missing")');
    await page.locator('[data-testid=detail] .url:has-text("/missing")').waitFor();
    await page.click('[data-testid=copy-curl]');
    const command = await shownText(page.locator('[data-testid=copied-text]'));
    assert.match(command, /^curl '/);
    const result = await run('sh', ['-c', `${command} -q -sS -o /dev/null -w '%{http_code}' --proxy ${mitm.url} --cacert ${mitm.caPath}`]);
    assert.equal(result.stdout.toString(), '404', result.stderr.toString());
  });

  it('lists the messages of a WebSocket flow', async () => {
    const client = await openClient(`${wsOrigin.url}/chat`, [], { agent: new HttpProxyAgent(mitm.url) });
    client.ws.send('ping from the test');
    client.ws.send(Buffer.from([0, 1, 2, 255]));
    await client.received(2);
    client.ws.close();
    await page.click('.chip:has-text("WebSockets")');
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 1);
    await page.click('.rows .row');
    await page.click('[data-tab=messages]');
    const table = page.locator('[data-testid=ws-messages]');
    await table.waitFor();
    assert.equal(await table.locator('tr').count(), 4);
    assert.match(await shownText(table), /ping from the test/);
    assert.match(await shownText(table), /00 01 02 ff/);
    await page.fill('[data-testid=filter]', '');
  });

  it('lists the events of a server-sent event stream', async () => {
    await through('/events');
    await page.fill('[data-testid=filter]', 'path:/events');
    // The one row left must be that stream's (the list may still show the previous filter's row).
    await page.waitForFunction(() => {
      const rows = document.querySelectorAll('.rows .row');
      return rows.length === 1 && (rows[0]?.textContent ?? '').includes('/events');
    });
    await page.click('.rows .row');
    await page.click('[data-tab=events]');
    const table = page.locator('[data-testid=sse-events]');
    await table.waitFor();
    assert.equal(await table.locator('tr').count(), 2);
    const shown = await shownText(table);
    assert.match(shown, /greeting\s+id 1\s+first event/);
    assert.match(shown, /message\s+line one\nline two/);
    await page.fill('[data-testid=filter]', '');
  });

  it('exports the filtered flows as HAR', async () => {
    // The 404 of the copied curl command is a flow too.
    await page.fill('[data-testid=filter]', 'status:>=400');
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 3);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-har]')]);
    const har = JSON.parse(await readFile(await download.path(), 'utf8')) as { log: { entries: Array<{ response: { status: number } }> } };
    assert.deepEqual(har.log.entries.map((entry) => entry.response.status).sort(), [404, 404, 500]);
    await page.fill('[data-testid=filter]', '');
  });

  it('shows tunnels and refused handshakes with their reasons', async () => {
    await curl(['--proxy', mitm.url, '-k', `https://127.0.0.1:${new URL(origin.url).port}/hello`]);
    const refused = await curl(['--proxy', mitm.url, `${origin.url}/hello`]);
    assert.notEqual(refused.exitCode, 0, 'curl refuses our certificate without --cacert');
    await page.click('[data-testid=connections-tab]');
    const table = page.locator('[data-testid=connections]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=connections] tbody tr').length >= 2);
    const text = await shownText(table);
    assert.match(text, /tunnelled/);
    assert.match(text, /passthrough/);
    assert.match(text, /refused \/ failed/);
    await page.click('.views button:has-text("Flows")');
  });

  it('clears', async () => {
    await page.click('[data-testid=detail] .close');
    await page.screenshot({ path: `${DOCS}ui-list.png` });
    await page.click('button:has-text("Clear")');
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 0);
    assert.equal(mitm.proxy.flows.length, 0);
  });
});
