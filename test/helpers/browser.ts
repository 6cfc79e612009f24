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
