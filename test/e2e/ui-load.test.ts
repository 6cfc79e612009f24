// 20 000 flows pushed into an open inspector: every row stays reachable by scrolling and by
// filtering. The page's longest task (Performance API, 'longtask') is reported, not asserted:
// timings on a shared 2-core machine say little, the figure goes to docs/ui.md.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startUi, type RunningUi } from '../../src/index.js';
import { browserSkip, launchChromium, type PageDocument, type PageElement } from '../helpers/browser.js';
import { buildUiAssets, fakeSummary, MemorySource } from '../helpers/ui.js';

// Page callbacks run in the browser; the Node compilation has no DOM lib (helpers/browser.ts).
declare const document: PageDocument;
declare const window: object;
declare class PerformanceObserver {
  constructor(callback: (list: { getEntries(): Array<{ duration: number }> }) => void);
  observe(options: { type: string; buffered: boolean }): void;
}

const FLOWS = 20_000;
const BURST = 1000;
const ROW_HEIGHT = 22;

async function visibleIds(page: Page): Promise<number[]> {
  return page.evaluate(() => [...document.querySelectorAll('.rows .row')].map((row) => Number(row.dataset.id)).sort((a, b) => a - b));
}

async function scrollToRow(page: Page, index: number, wantId: number): Promise<number[]> {
  await page.evaluate(
    ([at, height]) => {
      const box = document.querySelector('.rows') as PageElement;
      box.scrollTop = (at as number) * (height as number);
    },
    [index, ROW_HEIGHT],
  );
  await page.waitForFunction((id) => document.querySelector(`.rows .row[data-id="${id}"]`) !== null, wantId);
  return visibleIds(page);
}

describe('web inspector with 20 000 flows', { skip: browserSkip, timeout: 180_000 }, () => {
  const source = new MemorySource();
  let ui: RunningUi;
  let browser: Browser;
  let page: Page;

  before(async () => {
    ui = await startUi({ port: 0, source, assetsDir: await buildUiAssets() });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) w.longTasks.push(entry.duration);
      }).observe({ type: 'longtask', buffered: true });
    });
    await page.goto(ui.url);
    await page.locator('.status-bar .live').waitFor();
  });

  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  it('takes the flows live and keeps every row reachable', async (t) => {
    await page.evaluate(() => {
      (window as unknown as { longTasks: number[] }).longTasks = [];
    });
    const started = Date.now();
    for (let id = 1; id <= FLOWS; id++) {
      source.push(fakeSummary(id));
      if (id % BURST === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await page.waitForFunction((n) => document.querySelector('[data-testid=counts]')?.textContent?.startsWith(`${n} shown`), FLOWS, {
      timeout: 60_000,
    });
    const shownAfter = Date.now() - started;
    const tasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    t.diagnostic(
      `${FLOWS} flows in bursts of ${BURST}: all shown after ${shownAfter} ms; long tasks: ${tasks.length}, longest ${Math.round(Math.max(0, ...tasks))} ms`,
    );
    assert.ok((await page.locator('.rows .row').count()) < 200, 'the list renders only the rows in view');

    for (const index of [0, 4321, 9999, 15_000, FLOWS - 1]) {
      const ids = await scrollToRow(page, index, index + 1);
      assert.ok(ids.includes(index + 1), `row ${index + 1} is rendered after scrolling to it (saw ${ids[0]}–${ids.at(-1)})`);
    }
  });

  it('finds any row by filtering', async (t) => {
    await page.evaluate(() => {
      (window as unknown as { longTasks: number[] }).longTasks = [];
    });
    for (const id of [1, 12_345, FLOWS]) {
      await page.fill('[data-testid=filter]', `path:*/item/${id}`);
      await page.waitForFunction((want) => {
        const rows = [...document.querySelectorAll('.rows .row')];
        return rows.length === 1 && rows[0]?.dataset.id === String(want);
      }, id);
    }
    await page.fill('[data-testid=filter]', 'status:5xx');
    const errors = Math.floor(FLOWS / 7);
    await page.waitForFunction((n) => document.querySelector('[data-testid=counts]')?.textContent?.startsWith(`${n} shown`), errors);
    const ids = await scrollToRow(page, errors - 1, 7 * errors);
    assert.ok(ids.includes(7 * errors));
    await page.fill('[data-testid=filter]', '');
    await page.waitForFunction((n) => document.querySelector('[data-testid=counts]')?.textContent?.startsWith(`${n} shown`), FLOWS);
    const tasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    t.diagnostic(`filtering ${FLOWS} rows: long tasks ${tasks.length}, longest ${Math.round(Math.max(0, ...tasks))} ms`);
  });
});
