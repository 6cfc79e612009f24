import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod/mini';
import { describeCa, exportCa, exportCaWithKey, importCa, initCa, loadCa, type CertificateAuthority } from '../ca/authority.js';
import { described, flag, nonEmpty, ProxyOptionsSchema } from '../config/schema.js';
import { formatHelp, parseFlags, UsageError } from './flags.js';
import { writeLine, type Io } from './output/io.js';

// The option sets of the `ca` subcommands, declared with zod like `mitm start`'s, so help and
// validation come from one place and --ca keeps the proxy's type, default and placeholder. Only
// `init` creates a missing CA, so the others restate what --ca means for them.
const InitOptions = z.pick(ProxyOptionsSchema, { ca: true });
const existingCa = described(ProxyOptionsSchema.shape.ca.clone(), { arg: 'DIR', description: 'CA folder holding ca.pem and ca-key.pem' });
const InfoOptions = z.strictObject({ ca: existingCa });
/** Where `ca export --include-key` reads its passphrase: an environment variable, so it is never on a command line or in shell history. */
const PASSPHRASE_ENV = 'MITM_CA_PASSPHRASE';
const ExportOptions = z.strictObject({
  ca: existingCa,
  format: described(z.enum(['pem', 'der', 'p12']), {
    arg: 'FORMAT',
    description: 'pem (text), der (binary X.509) or p12 (binary PKCS#12, empty password)',
  }),
  out: described(z.optional(nonEmpty()), { arg: 'FILE', description: 'Write to this file instead of stdout' }),
  includeKey: described(flag(), {
    description: `Also export the private key (--format p12 only), encrypted with the passphrase in $${PASSPHRASE_ENV} (8+ characters): whoever holds it can impersonate any site to machines trusting this CA`,
  }),
});
const ImportOptions = z.strictObject({
  ca: described(ProxyOptionsSchema.shape.ca.clone(), { arg: 'DIR', description: 'CA folder to copy the CA into' }),
  from: described(nonEmpty(), { arg: 'DIR', description: 'Folder holding the ca.pem and ca-key.pem to copy' }),
});

/** One subcommand of `mitm ca`: its help page and its runner. */
interface Subcommand {
  readonly summary: string;
  help(): string;
  run(argv: readonly string[], io: Io): Promise<number>;
}

/** Ties a subcommand's schema to its action, handling `--help` and flag parsing the same way for each. */
function subcommand<S extends z.ZodMiniObject>(
  name: string,
  summary: string,
  schema: S,
  action: (options: Readonly<z.output<S>>, io: Io) => Promise<void>,
): Subcommand {
  const help = (): string => formatHelp(`mitm ca ${name} [options]`, `${summary}.`, schema);
  return {
    summary,
    help,
    run: async (argv, io) => {
      const parsed = parseFlags(schema, argv);
      if (parsed.help) {
        io.stdout.write(help());
        return 0;
      }
      await action(parsed.options, io);
      return 0;
    },
  };
}

/** Prints the SHA-256 fingerprint line that `ca init`, `ca info` and `ca import` share. */
function printFingerprint(io: Io, ca: CertificateAuthority): void {
  writeLine(io.stdout, `SHA-256 fingerprint: ${describeCa(ca).sha256}`);
}

/** `mitm ca init`: creates the CA unless present, and says which happened. */
async function init(options: Readonly<z.output<typeof InitOptions>>, io: Io): Promise<void> {
  const { ca, created } = await initCa(options.ca);
  const where = options.ca;
  writeLine(io.stdout, created ? `created a new root CA in ${where}` : `a root CA is already present in ${where}`);
  printFingerprint(io, ca);
  if (created) writeLine(io.stdout, `trust ${path.join(where, 'ca.pem')} in your client or OS to see HTTPS traffic`);
}

/** `mitm ca info`: subject, validity and fingerprint. */
async function info(options: Readonly<z.output<typeof InfoOptions>>, io: Io): Promise<void> {
  const ca = await loadCa(options.ca);
  const { subject, notBefore, notAfter } = describeCa(ca);
  writeLine(io.stdout, `subject:     ${subject}`);
  writeLine(io.stdout, `valid from:  ${notBefore.toISOString()}`);
  writeLine(io.stdout, `valid until: ${notAfter.toISOString()}`);
  printFingerprint(io, ca);
}

/** `mitm ca export`: the certificate to stdout or --out, never binary onto a terminal. */
async function exportCommand(options: Readonly<z.output<typeof ExportOptions>>, io: Io): Promise<void> {
  const { format, out } = options;
  // Binary on a terminal is garbage at best and terminal escape sequences at worst.
  if (out === undefined && format !== 'pem' && io.stdout.isTTY === true) {
    throw new UsageError(`--format ${format}: refusing to write binary data to a terminal; use --out FILE or a pipe`);
  }
  const data = options.includeKey ? exportKey(await loadCa(options.ca), format) : exportCa(await loadCa(options.ca), format);
  if (out === undefined) {
    io.stdout.write(data);
    return;
  }
  await writeFile(out, data);
  writeLine(io.stderr, `wrote ${out} (${format})`);
}

/** The CA with its key as passphrase-protected PKCS#12; anything else is a usage error. */
function exportKey(ca: CertificateAuthority, format: string): Buffer {
  if (format !== 'p12') throw new UsageError('--include-key: the key is only exported as --format p12 (encrypted with a passphrase)');
  const passphrase = process.env[PASSPHRASE_ENV];
  if (passphrase === undefined || passphrase === '') {
    throw new UsageError(`--include-key: set ${PASSPHRASE_ENV} to the passphrase that will protect the key (8+ characters)`);
  }
  return exportCaWithKey(ca, passphrase);
}

/** `mitm ca import`: copies another folder's CA into --ca. */
async function importCommand(options: Readonly<z.output<typeof ImportOptions>>, io: Io): Promise<void> {
  const ca = await importCa(options.from, options.ca);
  writeLine(io.stdout, `imported the root CA from ${options.from} into ${options.ca}`);
  printFingerprint(io, ca);
}

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  init: subcommand('init', 'Create a root CA in the CA folder unless one is there', InitOptions, init),
  info: subcommand('info', "Show the root CA's subject, validity and SHA-256 fingerprint", InfoOptions, info),
  export: subcommand('export', 'Write the root CA certificate as PEM, DER or PKCS#12', ExportOptions, exportCommand),
  import: subcommand('import', 'Copy a root CA (ca.pem + ca-key.pem) into the CA folder', ImportOptions, importCommand),
};

/** One line for the command list of `mitm --help`, per `ca` subcommand. */
export function caSummaries(): ReadonlyArray<readonly [string, string]> {
  return Object.entries(SUBCOMMANDS).map(([name, command]) => [`ca ${name}`, command.summary] as const);
}

/** The `--help` page of `mitm ca`. */
function caHelp(): string {
  const rows = caSummaries();
  const width = Math.max(...rows.map(([name]) => name.length));
  const list = rows.map(([name, summary]) => `  mitm ${name.padEnd(width)}  ${summary}`).join('\n');
  return [
    'Usage: mitm ca <init|info|export|import> [options]',
    '',
    'Manage the root CA that signs the certificates the proxy shows its clients.',
    '',
    'Commands:',
    list,
    '',
    'Run mitm ca <command> --help for its options.',
    '',
  ].join('\n');
}

/** True when `name` is a `mitm ca` subcommand; main uses it to point usage errors at the right help. */
export function isCaSubcommand(name: string | undefined): boolean {
  return name !== undefined && Object.hasOwn(SUBCOMMANDS, name);
}

/** Runs `mitm ca <subcommand> [options]`. */
export async function runCa(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help') {
    io.stdout.write(caHelp());
    return 0;
  }
  const command = name === undefined ? undefined : SUBCOMMANDS[name];
  if (command === undefined) {
    const names = Object.keys(SUBCOMMANDS).join(', ');
    throw new UsageError(name === undefined ? `missing ca subcommand (${names})` : `unknown ca subcommand ${JSON.stringify(name)}`);
  }
  return command.run(rest, io);
}
