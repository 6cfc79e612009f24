import { join } from 'node:path';
import * as z from 'zod/mini';
import { described, integer, nonEmpty } from '../config/schema.js';
import { readCaFile } from '../ca/ca-files.js';
import { MitmError } from '../errors.js';
import { openStore } from '../record/store/open-store.js';
import { caFingerprint } from '../ui/ca-fingerprint.js';
import { startUi, storeSource } from '../ui/ui.js';
import { formatHelp, parseFlags } from './flags.js';
import { writeLine, type Io } from './output/io.js';

/** The flags of `mitm ui`; `--ui-host` and `--ui-port` are spelt as on `mitm start --ui`. */
export const UiCommandSchema = z.strictObject({
  store: described(nonEmpty(), {
    arg: 'FILE',
    description: 'The store file to show (written by mitm start --store), opened read-only; flows a running proxy adds appear live',
  }),
  ca: described(z.optional(nonEmpty()), {
    arg: 'DIR',
    description:
      'A CA folder (mitm start --ca) whose certificate the status bar shows and offers for download (ca.pem only; the key is never read)',
  }),
  uiHost: described(z._default(nonEmpty(), '127.0.0.1'), {
    arg: 'HOST',
    description: 'Address the inspector listens on (anything but loopback exposes it to the network)',
  }),
  uiPort: described(z._default(integer(z.minimum(0), z.maximum(65535)), 8081), {
    arg: 'PORT',
    description: 'Port the inspector listens on; 0 = a free one',
  }),
});

/** One line for the command list of `mitm --help`. */
export const UI_SUMMARY = 'Open a recorded session (a store file) in the web inspector, without a proxy';

/** Runs `mitm ui --store FILE`: serves the inspector over the store until SIGINT or SIGTERM. */
export async function runUi(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseFlags(UiCommandSchema, argv);
  if (parsed.help) {
    io.stdout.write(formatHelp('mitm ui --store FILE [options]', `${UI_SUMMARY}. See docs/ui.md.`, UiCommandSchema));
    return 0;
  }
  const { store: file, ca, uiHost, uiPort } = parsed.options;
  const caPem = ca === undefined ? undefined : await readCaCert(ca);
  const store = await openStore(file, { readonly: true });
  try {
    const ui = await startUi({ host: uiHost, port: uiPort, source: storeSource(store, { caPem }) });
    writeLine(io.stderr, `mitm ui: ${store.count()} flows from ${store.file}; flows a proxy writes to it meanwhile appear live`);
    if (ui.exposed)
      writeLine(io.stderr, `mitm ui: warning: listening on ${uiHost}, reachable from the network (the token still guards it)`);
    writeLine(io.stdout, `inspector: ${ui.url}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await ui.close();
    return 0;
  } finally {
    await store.close();
  }
}

/** The certificate of the CA folder `dir` (its ca.pem; the key stays unread), checked to parse. */
async function readCaCert(dir: string): Promise<string> {
  const path = join(dir, 'ca.pem');
  const pem = await readCaFile(path, 'name the folder mitm start --ca used (it holds ca.pem)');
  if (caFingerprint(pem) === undefined) throw new MitmError('ca_invalid', `--ca ${dir}: ${path} is not a PEM certificate`);
  return pem;
}
