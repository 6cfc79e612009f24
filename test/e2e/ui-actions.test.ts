// The inspector's viewers and actions in a real browser (Debian's chromium through playwright-core),
// over a real proxy with traffic from curl: highlighted bodies, SVG as image and text, copy as
// HTTPie (run with `http` when Debian's httpie is installed), HAR import by file picker and by drop,
// export of a selection, pinning across Clear.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { proxySource, startUi, type RunningUi } from '../../src/index.js';
import { browserSkip, launchChromium, type PageDocument } from '../helpers/browser.js';
import { curl } from '../helpers/curl.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { run } from '../helpers/run.js';
import { buildUiAssets, uiRequest } from '../helpers/ui.js';

// Page callbacks run in the browser; the Node compilation has no DOM lib (helpers/browser.ts).
declare const document: PageDocument;
declare const DataTransfer: new () => { readonly items: { add(file: File): unknown } };

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="12" height="8"><rect width="12" height="8" fill="teal"/></svg>';
const BODIES: Record<string, [type: string, body: string]> = {
  '/page.html': ['text/html; charset=utf-8', '<!doctype html><html><body><h1 class="title">Hi</h1></body></html>'],
  '/app.js': ['application/javascript', 'function answer() { return 42; }'],
  '/style.css': ['text/css', 'body { color: teal; }'],
  '/data.json': ['application/json', JSON.stringify({ name: 'mitm', count: 3 })],
  '/logo.svg': ['image/svg+xml', SVG],
};

/** What the origin got for `/echo`: method, headers as sent, body. */
interface Echoed {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const rowCount = (page: Page): Promise<number> => page.locator('.rows .row').count();

describe('web inspector actions in chromium', { skip: browserSkip, timeout: 180_000 }, () => {
  let pki: TestPki;
  let origin: CustomOrigin;
  let mitm: TestProxy;
  let ui: RunningUi;
  let browser: Browser;
  let page: Page;
  const echoed: Echoed[] = [];
  const violations: string[] = [];
  const chunks: string[] = [];
  const through = (path: string, extra: string[] = []) =>
    curl(['--proxy', mitm.url, '--cacert', mitm.caPath, `${origin.url}${path}`, ...extra]);
  const open = async (path: string): Promise<void> => {
    await page.click(`.rows .row:has-text("${path}") .c-path`);
    await page.locator(`[data-testid=detail] .url:has-text("${path}")`).waitFor();
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://o.invalid').pathname;
      if (path === '/echo') {
        const headers: Record<string, string> = {};
        for (let i = 0; i < req.rawHeaders.length; i += 2)
          headers[(req.rawHeaders[i] as string).toLowerCase()] = req.rawHeaders[i + 1] as string;
        echoed.push({ method: req.method ?? '', headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
        return;
      }
      const [type, body] = BODIES[path] ?? ['text/plain', 'hello'];
      res.writeHead(200, { 'content-type': type }).end(body);
    });
  };

  before(async () => {
    pki = await createTestPki();
    origin = await startCustomOrigin(handler, { cert: pki.origin.cert, key: pki.origin.key });
    mitm = await startTestProxy(pki);
    ui = await startUi({ port: 0, source: proxySource(mitm.proxy), assetsDir: await buildUiAssets() });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    page.on('request', (request) => {
      const name = new URL(request.url()).pathname;
      if (name.startsWith('/chunk-')) chunks.push(name);
    });
    await page.goto(ui.url);
    await page.locator('.status-bar .live').waitFor();
    for (const path of Object.keys(BODIES)) assert.equal((await through(path)).exitCode, 0);
    await page.waitForFunction((n) => document.querySelectorAll('.rows .row').length === n, Object.keys(BODIES).length);
  });

  after(async () => {
    await browser?.close();
    await ui?.close();
    await mitm?.close();
    await origin?.close();
    await pki?.cleanup();
  });

  it('highlights HTML, JavaScript and CSS, loading the highlighter only when first needed', async () => {
    const before = chunks.length;
    await open('/page.html');
    const html = page.locator('[data-testid=highlighted][data-language=xml]');
    await html.waitFor();
    assert.ok(chunks.length > before, `the highlighter chunk is fetched on first use (fetched: ${chunks.join(', ')})`);
    assert.equal(await html.locator('.hljs-tag').first().isVisible(), true);
    assert.equal(await html.locator('.hljs-string').first().textContent(), '"title"');
    assert.equal(await html.textContent(), BODIES['/page.html']?.[1], 'the text is shown whole, unchanged');
    await page.click('[data-testid=body-modes] [data-mode=raw]');
    await page.locator('[data-testid=detail] pre.text:not(.code)').waitFor();

    await open('/app.js');
    const js = page.locator('[data-testid=highlighted][data-language=javascript]');
    await js.waitFor();
    assert.deepEqual(await js.locator('.hljs-keyword').allTextContents(), ['function', 'return']);

    await open('/style.css');
    const css = page.locator('[data-testid=highlighted][data-language=css]');
    await css.waitFor();
    assert.equal(await css.locator('.hljs-selector-tag').textContent(), 'body');
  });

  it('shows JSON as a tree, and its raw view highlighted', async () => {
    await open('/data.json');
    await page.locator('[data-testid=json-tree]').waitFor();
    await page.click('[data-testid=body-modes] [data-mode=raw]');
    const raw = page.locator('[data-testid=highlighted][data-language=json]');
    await raw.waitFor();
    assert.deepEqual(await raw.locator('.hljs-attr').allTextContents(), ['"name"', '"count"']);
    assert.equal(await raw.textContent(), BODIES['/data.json']?.[1]);
  });

  it('shows an SVG response as an image, toggles to its text and back', async () => {
    await open('/logo.svg');
    const image = page.locator('[data-testid=body-image]');
    await image.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=body-image]')?.naturalWidth === 12);
    const toggle = page.locator('[data-testid=body-modes] [data-mode=raw]');
    assert.equal(await toggle.textContent(), 'text');
    await toggle.click();
    const text = page.locator('[data-testid=highlighted][data-language=xml]');
    await text.waitFor();
    assert.equal(await text.textContent(), SVG);
    assert.equal(await image.count(), 0, 'the text replaces the image');
    await page.click('[data-testid=body-modes] [data-mode=pretty]:has-text("image")');
    await image.waitFor();
    assert.deepEqual(violations, [], 'nothing the page does is refused by its CSP');
  });

  it('copies a request with headers and a JSON body as an HTTPie command that sends the same request', async (t) => {
    const body = JSON.stringify({ user: "o'neil", tags: ['a b', 'c'] });
    const sent = await through('/echo?trace=1', [
      '-X',
      'POST',
      '-A',
      'ui-test',
      '-H',
      'content-type: application/json',
      '-H',
      'x-trace: a b',
      '--data-binary',
      body,
    ]);
    assert.equal(sent.status, 201);
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 6);
    await open('/echo');
    await page.click('[data-testid=copy-httpie]');
    const command = await page.locator('[data-testid=copied-text]').textContent();
    assert.equal(
      command,
      `http --ignore-stdin POST '${origin.url}/echo?trace=1' 'user-agent:ui-test' 'accept:*/*' 'content-type:application/json' ` +
        `'x-trace:a b' --raw '{"user":"o'\\''neil","tags":["a b","c"]}'`,
    );
    if (!existsSync('/usr/bin/http')) {
      t.diagnostic('no /usr/bin/http (apt-get install -y httpie): the command was checked as text only');
      return;
    }
    const result = await run('sh', ['-c', `${command} --check-status --print=h --proxy=https:${mitm.url} --verify=${mitm.caPath}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(echoed.length, 2);
    const [original, again] = echoed as [Echoed, Echoed];
    assert.equal(again.method, 'POST');
    assert.equal(again.body, original.body);
    for (const name of ['user-agent', 'accept', 'content-type', 'x-trace']) assert.equal(again.headers[name], original.headers[name], name);
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 7);
  });

  it('exports the rows picked with ctrl-click, shift-click and checkboxes as HAR', async () => {
    await page.click('.rows .row:has-text("/page.html") .c-path');
    await page.click('.rows .row:has-text("/style.css") .c-path', { modifiers: ['Shift'] });
    await page.click('.rows .row:has-text("/logo.svg") .c-path', { modifiers: ['Control'] });
    await page.click('.rows .row:has-text("/app.js") .c-pick input');
    assert.equal(await page.locator('[data-testid=selection-bar] span').first().textContent(), '3 selected');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-selection]')]);
    const har = JSON.parse(await readFile(await download.path(), 'utf8')) as { log: { entries: Array<{ request: { url: string } }> } };
    const paths = har.log.entries.map((entry) => new URL(entry.request.url).pathname).sort();
    // page.html to style.css by shift (app.js between them), logo.svg by ctrl, app.js dropped by its checkbox.
    assert.deepEqual(paths, ['/logo.svg', '/page.html', '/style.css']);
  });

  it('imports a HAR of its own export by the file picker, and says what is wrong with a bad file dropped on the page', async () => {
    await page.fill('[data-testid=filter]', 'path:/page.html OR path:/app.js');
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 2);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-har]')]);
    await page.fill('[data-testid=filter]', '');
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 7);
    await page.setInputFiles('[data-testid=import-har]', await download.path());
    await page.locator('[data-testid=import-outcome]:has-text("Imported 2 flows")').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 9);
    const imported = page.locator('.rows .row:has(.c-id:text-is("i1"))');
    assert.match((await imported.getAttribute('title')) ?? '', /imported from a HAR file/);
    assert.match((await imported.locator('.c-marks').textContent()) ?? '', /⇣/);
    await imported.locator('.c-path').click();
    await page.locator('[data-testid=highlighted][data-language=xml]').waitFor();

    const dropped = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['{"log": {"pages": []}}'], 'broken.har', { type: 'application/json' }));
      return transfer;
    });
    await page.dispatchEvent('.rows', 'dragover', { dataTransfer: dropped });
    await page.locator('.drop-zone').waitFor();
    await page.dispatchEvent('.rows', 'drop', { dataTransfer: dropped });
    const failed = page.locator('[data-testid=import-outcome].failed');
    await failed.waitFor();
    assert.match((await failed.textContent()) ?? '', /broken\.har is not a HAR file: it has no log\.entries list of requests/);
    assert.equal(await rowCount(page), 9);
  });

  it('keeps pinned flows, live and imported, across Clear, in the page and in the proxy', async () => {
    await page.click('.rows .row:has-text("/data.json") .c-path');
    await page.click('.rows .row:has(.c-id:text-is("i2")) .c-pick input');
    await page.click('[data-testid=pin-selection]');
    await page.waitForFunction(
      () => [...document.querySelectorAll('.rows .row .c-marks')].filter((m) => m.textContent?.includes('📌')).length === 2,
    );
    assert.equal(await page.locator('.rows .row.pinned').count(), 2, 'pinned rows are marked at the left edge too');
    const pinnedId = mitm.proxy.flows.find((flow) => flow.request.url.endsWith('/data.json'))?.id;
    assert.deepEqual([...mitm.proxy.pinned], [pinnedId]);
    await page.click('[data-testid=selection-bar] button:has-text("Select none")');
    await page.click('button:has-text("Clear")');
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 2);
    assert.deepEqual(
      mitm.proxy.flows.map((flow) => flow.id),
      [pinnedId],
    );
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 2);
    assert.deepEqual((await page.locator('.rows .row .c-id').allTextContents()).sort(), [`${pinnedId}`, 'i2'].sort());
    assert.deepEqual(violations, [], 'nothing the page did is refused by its CSP');
  });
});

describe('inspector API: pin and import', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let mitm: TestProxy;
  let ui: RunningUi;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${ui.token}` });

  before(async () => {
    pki = await createTestPki();
    mitm = await startTestProxy(pki);
    ui = await startUi({ port: 0, source: proxySource(mitm.proxy), assetsDir: await buildUiAssets() });
  });

  after(async () => {
    await ui?.close();
    await mitm?.close();
    await pki?.cleanup();
  });

  it('imports a HAR posted with the token, numbers its flows apart and lists them as imported', async () => {
    const har = JSON.stringify({
      log: {
        entries: [
          {
            startedDateTime: new Date().toISOString(),
            request: { method: 'GET', url: 'https://a.test/x', headers: [] },
            response: { status: 204, headers: [] },
          },
        ],
      },
    });
    const answer = await uiRequest(ui.port, '/api/v1/import?name=a.har', { method: 'POST', headers: auth(), body: har });
    assert.equal(answer.status, 200, answer.text);
    const { imported, ids } = JSON.parse(answer.text) as { imported: number; ids: number[] };
    assert.equal(imported, 1);
    const list = JSON.parse((await uiRequest(ui.port, '/api/v1/flows?filter=host:a.test', { headers: auth() })).text) as {
      flows: Array<{ id: number; imported?: boolean; status?: number }>;
    };
    assert.deepEqual(
      list.flows.map(({ id, imported: flag, status }) => ({ id, flag, status })),
      [{ id: ids[0], flag: true, status: 204 }],
    );
    const selected = JSON.parse((await uiRequest(ui.port, `/api/v1/har?ids=${ids[0]}`, { headers: auth() })).text) as {
      log: { entries: Array<{ request: { url: string } }> };
    };
    assert.deepEqual(
      selected.log.entries.map((entry) => entry.request.url),
      ['https://a.test/x'],
    );
  });

  it('refuses an import without the token, from a foreign origin, too large, or not a HAR', async () => {
    const noToken = await uiRequest(ui.port, '/api/v1/import', { method: 'POST', body: '{}' });
    assert.equal(noToken.status, 401);
    const foreign = await uiRequest(ui.port, '/api/v1/import', {
      method: 'POST',
      headers: { ...auth(), origin: 'http://evil.test' },
      body: '{}',
    });
    assert.equal(foreign.status, 403);
    const big = await uiRequest(ui.port, '/api/v1/import?name=big.har', {
      method: 'POST',
      headers: { ...auth(), 'content-length': String(65 * 2 ** 20) },
    });
    assert.equal(big.status, 413);
    assert.match(big.text, /big\.har is 68157440 bytes; the inspector imports HAR files up to 67108864 bytes/);
    const bad = await uiRequest(ui.port, '/api/v1/import?name=bad.har', { method: 'POST', headers: auth(), body: 'not json' });
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.text) as { error: { code: string } }).error.code, 'har_invalid');
    assert.match(bad.text, /bad\.har is not a HAR file/);
    const ids = await uiRequest(ui.port, '/api/v1/har?ids=3-1', { headers: auth() });
    assert.equal(ids.status, 400);
  });

  it('pins with POST, unpins with DELETE, and answers 404 for a flow it does not keep', async () => {
    const sent = await curl(['--proxy', mitm.url, 'http://127.0.0.1:9/nothing-listens']);
    assert.equal(sent.status, 502);
    const id = mitm.proxy.flows[0]?.id as number;
    const pin = await uiRequest(ui.port, `/api/v1/flows/${id}/pin`, { method: 'POST', headers: auth() });
    assert.deepEqual(JSON.parse(pin.text), { id, pinned: true });
    assert.equal(mitm.proxy.pinned.has(id), true);
    const unpin = await uiRequest(ui.port, `/api/v1/flows/${id}/pin`, { method: 'DELETE', headers: auth() });
    assert.deepEqual(JSON.parse(unpin.text), { id, pinned: false });
    assert.equal(mitm.proxy.pinned.has(id), false);
    const missing = await uiRequest(ui.port, '/api/v1/flows/999999/pin', { method: 'POST', headers: auth() });
    assert.equal(missing.status, 404);
    const get = await uiRequest(ui.port, `/api/v1/flows/${id}/pin`, { headers: auth() });
    assert.equal(get.status, 405);
  });
});

describe('web inspector: a pin the proxy refuses is said in the selection bar', { skip: browserSkip, timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: CustomOrigin;
  let mitm: TestProxy;
  let ui: RunningUi;
  let browser: Browser;

  before(async () => {
    pki = await createTestPki();
    origin = await startCustomOrigin((_req, res) => res.end('ok'), { cert: pki.origin.cert, key: pki.origin.key });
    // Keeps one flow: the page still lists the first one after the proxy has dropped it.
    mitm = await startTestProxy(pki, { keep: 1 });
    ui = await startUi({ port: 0, source: proxySource(mitm.proxy), assetsDir: await buildUiAssets() });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await ui?.close();
    await mitm?.close();
    await origin?.close();
    await pki?.cleanup();
  });

  it('pinning a flow the --keep ring dropped shows the API reason, and the row is not marked pinned', async () => {
    const page = await browser.newPage();
    await page.goto(ui.url);
    await page.locator('.status-bar .live').waitFor();
    for (const path of ['/first', '/second']) {
      const result = await curl(['--proxy', mitm.url, '--cacert', mitm.caPath, `${origin.url}${path}`]);
      assert.equal(result.exitCode, 0);
    }
    await page.waitForFunction(() => document.querySelectorAll('.rows .row').length === 2);
    assert.deepEqual(
      mitm.proxy.flows.map((flow) => new URL(flow.request.url).pathname),
      ['/second'],
    );
    await page.click('.rows .row:has-text("/first") .c-pick input');
    await page.click('[data-testid=pin-selection]');
    const failure = page.locator('[data-testid=selection-failure]');
    await failure.waitFor();
    assert.match((await failure.textContent()) ?? '', /^1 of 1 could not be pinned: ui_not_found: flow \d+ is not kept \(any more\)$/);
    assert.equal(await page.locator('.rows .row.pinned').count(), 0);
    await page.close();
  });
});
