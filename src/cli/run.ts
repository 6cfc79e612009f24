import * as z from 'zod/mini';
import { CliOptionsSchema, described, ProxyOptionsSchema } from '../config/schema.js';
import { clientCaFiles, clientEnvFor, clientProxyUrl } from '../harness/client-env.js';
import { assertHarWritable } from '../record/write-har.js';
import { formatHelp, parseFlags, UsageError } from './flags.js';
import { runChild, SignalRelay, signalStatus, startProxyAlongside, type Outcome } from './child.js';
import { printable } from './output/flow-log.js';
import { checkLogAndHookFlags } from './start.js';
import { HarOutput } from './output/har-output.js';
import { writeLine, type Io } from './output/io.js';
import { noProxyOption } from './env.js';

// `mitm start`'s options, so a command line moves between the two unchanged; a free port by
// default, since nothing outside needs to know it (the command gets it through the environment).
const RunOptionsSchema = z.extend(CliOptionsSchema, {
  port: described(z._default(ProxyOptionsSchema.shape.port.def.innerType, 0), {
    arg: 'N',
    description: 'Port to listen on; 0 picks a free port',
  }),
  // Pinning apps run under `mitm run` should keep working, so what they refuse is tunnelled.
  autoPassthrough: described(z._default(ProxyOptionsSchema.shape.autoPassthrough.def.innerType, true), {
    description:
      'Tunnel a client→host pair untouched for 10 minutes after that client rejects our certificate; --no-auto-passthrough turns it off',
  }),
  noProxy: noProxyOption,
});

/** One line for the command list of `mitm --help`. */
export const RUN_SUMMARY = 'Run a command with its HTTP(S) traffic going through the proxy';

/** The `--help` page of `mitm run`. */
export function runHelp(): string {
  return formatHelp(
    'mitm run [options] -- COMMAND [ARGS...]',
    [
      `${RUN_SUMMARY}.`,
      'Starts the proxy, runs COMMAND with the variables of `mitm env` (and a preload that makes',
      'Node programs honour them), prints each flow on stderr, stops the proxy when COMMAND exits',
      'and exits with its status (128+N when signal N ended it). COMMAND keeps stdin and stdout.',
      'SIGINT and SIGTERM are passed on to COMMAND. Takes every option of `mitm start`.',
    ].join('\n'),
    RunOptionsSchema,
  );
}

/** Runs `mitm run [options] -- COMMAND ARGS...` and returns COMMAND's exit status. */
export async function runRun(argv: readonly string[], io: Io): Promise<number> {
  const dashes = argv.indexOf('--');
  const parsed = parseFlags(RunOptionsSchema, dashes === -1 ? argv : argv.slice(0, dashes));
  if (parsed.help) {
    io.stdout.write(runHelp());
    return 0;
  }
  const [command, ...args] = dashes === -1 ? [] : argv.slice(dashes + 1);
  if (command === undefined) {
    throw new UsageError(
      dashes === -1 ? 'missing -- and the command to run, as in mitm run -- curl https://example.com/' : 'missing the command after --',
    );
  }
  const { quiet, logFormat, flowDetail, detailBodyLimit, logFilter, noProxy, har, ...proxyOptions } = parsed.options;
  await checkLogAndHookFlags(parsed.options);
  // Installed before the first await, so a Ctrl-C during start-up is not fatal half-way.
  const signals = new SignalRelay();
  let stopHarSignal = (): void => undefined;
  try {
    // Before COMMAND runs, not after: a long run must not end in a HAR that cannot be written.
    if (har !== undefined) await assertHarWritable(har);
    if (har !== undefined && proxyOptions.keep === 0) writeLine(io.stderr, 'warning: --keep 0 records no flows; the HAR will be empty');
    if (proxyOptions.insecure) writeLine(io.stderr, 'warning: --insecure: origin certificates are NOT verified');
    const log = { quiet, logFormat, flowDetail, detailBodyLimit, logFilter };
    const { proxy, alongside: caFiles } = await startProxyAlongside(proxyOptions, io, log, async (caDir) => clientCaFiles(caDir));
    // The same --har handling as `mitm start`: on SIGUSR2 while COMMAND runs, and at the end.
    const harOutput = har === undefined ? undefined : new HarOutput(proxy, har, io);
    if (harOutput) stopHarSignal = harOutput.writeOnSignal('SIGUSR2');
    let outcome: Outcome;
    try {
      const proxyUrl = clientProxyUrl(proxy.host, proxy.port);
      const env = { ...process.env, ...clientEnvFor(caFiles, { proxyUrl, noProxy, nodePreload: true }) };
      const early = signals.received;
      outcome = early === undefined ? await runChild(command, args, env, signals) : { status: signalStatus(early) };
      if (outcome.problem !== undefined) writeLine(io.stderr, `mitm: ${printable(outcome.problem)}`);
    } finally {
      await proxy.close();
    }
    // After close, as `mitm start` does, so flows cut short by the shutdown are in the HAR too.
    try {
      await harOutput?.write();
    } catch (error) {
      // Said, and never reported as success; but a failing COMMAND's own status is kept, as scripts branch on it.
      writeLine(io.stderr, `mitm: ${printable(error instanceof Error ? error.message : String(error))}`);
      return outcome.status === 0 ? 1 : outcome.status;
    }
    return outcome.status;
  } finally {
    stopHarSignal();
    signals.dispose();
  }
}
