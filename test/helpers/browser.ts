import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium; never a downloaded browser build. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why browser suites are skipped here, or false when they run. */
export const browserSkip: string | false = existsSync(CHROMIUM)
  ? false
  : `no ${CHROMIUM} (apt-get install -y chromium): the web inspector is not tested in a browser`;

/** Headless Chromium that resolves nothing but localhost, so no test traffic leaves the machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  });
}

/**
 * The little of the DOM that page callbacks (`page.evaluate`, `waitForFunction`) touch, typed for
 * the Node compilation, which has no DOM lib. Test files declare `document` with it locally.
 */
export interface PageElement {
  readonly textContent: string | null;
  readonly dataset: Readonly<Record<string, string | undefined>>;
  readonly naturalWidth?: number;
  scrollTop: number;
  readonly clientHeight: number;
  readonly scrollHeight: number;
}

/** See PageElement. */
export interface PageDocument {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
}
