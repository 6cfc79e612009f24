import type { ListenerInfo } from '../config/modes.js';
import * as z from 'zod/mini';
import { CliOptionsSchema, described, type CliConfig } from '../config/schema.js';
import { isMitmError, MitmError } from '../errors.js';
import { describeHooks, hooksFromOptions } from '../proxy/flag-hooks.js';
import { compileFilter } from '../record/filter/filter.js';
import { initCa } from '../ca/authority.js';
import { startProxy } from '../proxy/start.js';
import { assertHarWritable } from '../record/write-har.js';
import { formatHelp, keyToFlag, parseFlags, UsageError } from './flags.js';
import { caNotice, closingNotice } from './output/ca-notice.js';
import { attachLog, printable } from './output/flow-log.js';
import { HarOutput } from './output/har-output.js';
import { writeLine, type Io } from './output/io.js';
import { styleFor } from './output/term-style.js';

/** The options of `mitm start`: the CLI's, and how long a stop waits for busy connections. */
export const StartOptionsSchema = z.extend(CliOptionsSchema, {
  shutdownGrace: described(z._default(z.number().check(z.minimum(0)), 5), {
    arg: 'SECONDS',
    description: 'On SIGINT/SIGTERM, wait at most this long for busy connections to end before closing them',
  }),
});

/** One line for the command list of `mitm --help`. */
export const START_SUMMARY = 'Run the proxy and print one line per request';

/** The `--help` page of `mitm start`. */
export function startHelp(): string {
  return formatHelp(
    'mitm start [options]',
    [
      `${START_SUMMARY}.`,
      "Set the printed address as the client's HTTP and HTTPS proxy, and have the client",
      'trust ca.pem from the --ca folder to see inside HTTPS traffic.',
      'Stops on Ctrl-C (SIGINT) or SIGTERM: it stops accepting connections and closes idle ones,',
      'waits up to --shutdown-grace seconds for those still busy (a request, a tunnel, a WebSocket)',
      'to end, closes any left, then exits;',
      'a second signal exits at once.',
      'With --har FILE, the HAR is written on exit, and on SIGUSR2 without stopping.',
    ].join('\n'),
    StartOptionsSchema,
  );
}

/** Runs `mitm start`: starts the proxy, prints what it sees, and closes it on SIGINT or SIGTERM (writing `--har` first). */
export async function runStart(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseFlags(StartOptionsSchema, argv);
  if (parsed.help) {
    io.stdout.write(startHelp());
    return 0;
  }
  const { quiet, logFormat, flowDetail, detailBodyLimit, logFilter, har: harFile, shutdownGrace, ...proxyOptions } = parsed.options;
  await checkLogAndHookFlags(parsed.options);
  // Listen for signals before the first await: a signal during start-up must still close the proxy
  // and exit 0, not kill the process with the CA half-written.
  const stop = stopSignal(io);
  let stopHarSignal = (): void => undefined;
  try {
    // Checked first: finding a missing folder only at exit would lose the whole recording.
    if (harFile !== undefined) await assertHarWritable(harFile);
    if (harFile !== undefined && proxyOptions.keep === 0) writeLine(io.stderr, 'warning: --keep 0 records no flows; the HAR will be empty');
    if (proxyOptions.insecure) writeLine(io.stderr, 'warning: --insecure: origin certificates are NOT verified');
    // startProxy creates a missing CA silently; initCa is idempotent and tells us whether it did.
    const { ca, created } = await initCa(proxyOptions.ca);
    const proxy = await startProxy(proxyOptions).catch((error: unknown) => {
      throw inFlagWords(error);
    });
    const har = harFile === undefined ? undefined : new HarOutput(proxy, harFile, io);
    if (har) stopHarSignal = har.writeOnSignal('SIGUSR2');
    attachLog(proxy, io, { quiet, logFormat, flowDetail, detailBodyLimit, logFilter, style: styleFor(io.stdout) });
    // In json mode stdout carries FlowRecords only (attachLog), so the line goes to stderr there.
    for (const line of readyLines(proxy.addresses, process.pid)) writeLine(logFormat === 'json' ? io.stderr : io.stdout, line);
    if (proxy.metricsUrl !== undefined) writeLine(logFormat === 'json' ? io.stderr : io.stdout, `metrics on ${proxy.metricsUrl}/metrics`);
    if (proxy.ui) {
      writeLine(io.stderr, `inspector: ${proxy.ui.url}`);
      if (proxy.ui.exposed) writeLine(io.stderr, 'warning: the inspector is reachable from the network (the access token is required)');
    }
    writeLine(io.stderr, caNotice(ca, created));
    const hooks = describeHooks(proxy.hooks);
    if (hooks !== undefined) writeLine(io.stderr, printable(hooks));
    await stop.signalled;
    const open = proxy.connections;
    // Closed first, so flows cut short by the shutdown are in the HAR too. Said once the listener
    // has stopped accepting (drain starts synchronously), so whoever reads the line is refused.
    const closed = proxy.close({ graceful: true });
    writeLine(io.stderr, closingNotice(open));
    // --shutdown-grace: a forced close() cuts the graceful wait short; unref'd, so it never holds the process.
    const grace = setTimeout(() => void proxy.close(), shutdownGrace * 1000).unref();
    await closed;
    clearTimeout(grace);
    await har?.write();
    return 0;
  } finally {
    stopHarSignal();
    stop.dispose();
  }
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once, without waiting for connections to end. */
function stopSignal(io: Io): { signalled: Promise<NodeJS.Signals>; dispose(): void } {
  let resolve: (signal: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((done) => {
    resolve = done;
  });
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count += 1;
    if (count === 1) {
      resolve(signal);
      return;
    }
    writeLine(io.stderr, `mitm: ${signal} again: exiting without waiting for connections to close`);
    process.exit(1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signalled,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * The ready line(s): `listening on http://HOST:PORT (pid N)` for the one regular listener of a
 * plain start (scripts parse the prefix; the pid is where signals go when npx sits in between),
 * else one line per listener saying its mode (`dns on udp://…` for DNS) and then `pid N`.
 */
export function readyLines(listeners: readonly ListenerInfo[], pid?: number): string[] {
  const [only] = listeners;
  const suffix = pid === undefined ? '' : ` (pid ${pid})`;
  if (listeners.length === 1 && only?.kind === 'regular') return [`listening on ${only.address}${suffix}`];
  const lines = listeners.map((listener) =>
    listener.kind === 'dns' ? `dns on ${listener.address}` : `listening on ${listener.address} (${listener.mode})`,
  );
  return pid === undefined ? lines : [...lines, `pid ${pid}`];
}

/** A library error naming options as the library spells them (`upstreamCa /x.pem: …`), reworded with their flags (`--upstream-ca /x.pem: …`). */
export function inFlagWords(error: unknown): unknown {
  if (!isMitmError(error) || error.code !== 'config_invalid') return error;
  const keys = Object.keys(CliOptionsSchema.shape).join('|');
  const message = error.message.replace(
    new RegExp(`(^|: |; )(${keys})(?= )`, 'g'),
    (_, before: string, key: string) => `${before}${keyToFlag(key)}`,
  );
  return new MitmError('config_invalid', message, { cause: error.cause });
}

/** Checks what only the CLI or the hook builder can check (filters, hook option syntax, --break needing --ui) as usage errors naming the flag. */
export async function checkLogAndHookFlags(options: Omit<CliConfig, 'har'>): Promise<void> {
  try {
    if (options.logFilter !== undefined) compileFilter(options.logFilter);
  } catch (error) {
    throw new UsageError(`--log-filter ${JSON.stringify(options.logFilter)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  // Held flows wait for someone to release them: from the terminal nobody can, so each would hang until --break-timeout.
  if ((options.break.length > 0 || options.breakResponse.length > 0) && !options.ui) {
    throw new UsageError(`${options.break.length > 0 ? '--break' : '--break-response'} holds flows for the web inspector: add --ui`);
  }
  for (const [flag, filters] of [
    ['--break', options.break],
    ['--break-response', options.breakResponse],
  ] as const) {
    for (const filter of filters) {
      try {
        compileFilter(filter);
      } catch (error) {
        throw new UsageError(`${flag} ${JSON.stringify(filter)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  try {
    await hooksFromOptions(options, keyToFlag);
  } catch (error) {
    if (isMitmError(error) && error.code === 'config_invalid') throw new UsageError(error.message);
    throw error;
  }
}
