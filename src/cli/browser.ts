import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod/mini';
import { CliOptionsSchema, described, nonEmpty, ProxyOptionsSchema } from '../config/schema.js';
import { clientProxyUrl } from '../harness/client-env.js';
import { leafSpkiSha256 } from './browser-trust.js';
import { runChild, SignalRelay, startProxyForChild } from './child.js';
import { formatHelp, parseFlags, UsageError } from './flags.js';
import { printable } from './output/flow-log.js';
import { checkLogAndHookFlags } from './start.js';
import { writeLine, type Io } from './output/io.js';

// Tried in this order on PATH when neither --browser nor $BROWSER names one.
const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

// `mitm start`'s options (a free port by default), plus which browser to start.
const BrowserOptionsSchema = z.extend(z.omit(CliOptionsSchema, { har: true }), {
  port: described(z._default(ProxyOptionsSchema.shape.port.def.innerType, 0), {
    arg: 'N',
    description: 'Port to listen on; 0 picks a free port',
  }),
  browser: described(z.optional(nonEmpty()), {
    arg: 'PATH',
    description: `Chromium-family browser to start (default: $BROWSER, else the first of ${CANDIDATES.join(', ')} on PATH)`,
  }),
});

/** One line for the command list of `mitm --help`. */
export const BROWSER_SUMMARY = 'Start Chromium with a throwaway profile whose traffic goes through the proxy';

/** The `--help` page of `mitm browser`. */
export function browserHelp(): string {
  return formatHelp(
    'mitm browser [options] [-- CHROMIUM ARGS...]',
    [
      `${BROWSER_SUMMARY}.`,
      'Starts the proxy, then the browser with a new --user-data-dir (removed afterwards),',
      '--proxy-server pointing at the proxy, --proxy-bypass-list=<-loopback> (so localhost is',
      'proxied too) and --ignore-certificate-errors-spki-list with the key of the certificates',
      'the proxy shows, so nothing has to be installed in a trust store. Flows are printed on',
      'stderr; the proxy stops when the browser exits.',
    ].join('\n'),
    BrowserOptionsSchema,
  );
}

/** Runs `mitm browser`: the proxy in-process, Chromium as a child, and returns the browser's exit status. */
export async function runBrowser(argv: readonly string[], io: Io): Promise<number> {
  const dashes = argv.indexOf('--');
  const parsed = parseFlags(BrowserOptionsSchema, dashes === -1 ? argv : argv.slice(0, dashes));
  if (parsed.help) {
    io.stdout.write(browserHelp());
    return 0;
  }
  const extra = dashes === -1 ? [] : argv.slice(dashes + 1);
  const { quiet, logFormat, flowDetail, detailBodyLimit, logFilter, browser: chosen, ...proxyOptions } = parsed.options;
  await checkLogAndHookFlags(parsed.options);
  const signals = new SignalRelay();
  try {
    const browser = await findBrowser(chosen ?? process.env.BROWSER);
    const proxy = await startProxyForChild(proxyOptions, io, { quiet, logFormat, flowDetail, detailBodyLimit, logFilter });
    const profile = await mkdtemp(path.join(tmpdir(), 'mitm-browser-'));
    try {
      // Loopback when the proxy listens on every address (0.0.0.0, ::), as `mitm run` does.
      const proxyUrl = new URL(clientProxyUrl(proxy.host, proxy.port));
      const spki = await leafSpkiSha256(proxyUrl.hostname.replace(/^\[|\]$/g, ''), proxy.port, proxy.caCertPem);
      const args = [
        `--user-data-dir=${profile}`,
        `--proxy-server=${proxyUrl.origin}`,
        // Chromium sends localhost and 127.0.0.1 around any proxy unless told otherwise.
        '--proxy-bypass-list=<-loopback>',
        `--ignore-certificate-errors-spki-list=${spki}`,
        '--no-first-run',
        '--no-default-browser-check',
        ...extra,
      ];
      const outcome = signals.received === undefined ? await runChild(browser, args, process.env, signals) : { status: 130 };
      if (outcome.problem !== undefined) writeLine(io.stderr, `mitm: ${printable(outcome.problem)}`);
      return outcome.status;
    } finally {
      await proxy.close();
      await rm(profile, { recursive: true, force: true });
    }
  } finally {
    signals.dispose();
  }
}

/** The browser to start: `named` (a path or a command on PATH), else the first candidate on PATH. */
async function findBrowser(named: string | undefined): Promise<string> {
  const wanted = named === undefined || named === '' ? CANDIDATES : [named];
  for (const name of wanted) {
    const found = name.includes('/') ? ((await executable(name)) ? name : undefined) : await onPath(name);
    if (found !== undefined) return found;
  }
  throw new UsageError(
    named === undefined || named === ''
      ? `no browser found: none of ${CANDIDATES.join(', ')} is on PATH; pass --browser PATH`
      : `--browser: ${named} is not an executable file or a command on PATH`,
  );
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}
