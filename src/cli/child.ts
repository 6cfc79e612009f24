import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { initCa } from '../ca/authority.js';
import type { RunningProxy } from '../proxy/proxy-handle.js';
import { startProxy, type StartOptions } from '../proxy/start.js';
import { caNotice } from './output/ca-notice.js';
import { attachLog, type LogOptions } from './output/flow-log.js';
import { writeLine, type Io } from './output/io.js';
import { styleFor } from './output/term-style.js';
import { inFlagWords } from './start.js';

/** How the command ended, as an exit status for mitm itself. */
export interface Outcome {
  readonly status: number;
  /** Said on stderr when the command could not be started. */
  readonly problem?: string;
}

/** Starts COMMAND with the terminal's stdio and resolves with its exit status once it is gone. */
export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv, signals: SignalRelay): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    signals.forwardTo((signal) => child.kill(signal));
    child.once('error', (error: NodeJS.ErrnoException) => {
      // After a successful spawn, 'error' only reports a failed kill; 'exit' still follows.
      if (child.pid !== undefined) return;
      // The shell's conventions: 127 for a command that does not exist, 126 for one that cannot run.
      if (error.code === 'ENOENT') resolve({ status: 127, problem: `${command}: command not found` });
      else resolve({ status: 126, problem: `${command}: cannot run it (${error.code ?? error.message})` });
    });
    child.once('exit', (code, signal) => {
      resolve({ status: code ?? (signal === null ? 1 : signalStatus(signal)) });
    });
  });
}

/** 128 + the signal's number, as shells report a command a signal ended. */
export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Holds SIGINT and SIGTERM for the whole run: before COMMAND starts it only remembers them (mitm
 * then does not start it), afterwards it passes each one on and lets COMMAND decide when to exit.
 * A Ctrl-C in a terminal thus reaches COMMAND from the terminal and again from us, as it does
 * under `npm run`, which relays the same way; relaying is what makes `kill <mitm pid>` reach
 * COMMAND at all, and running COMMAND in a process group of its own instead would cut it off
 * from the terminal (a REPL or a prompt could no longer read it).
 */
export class SignalRelay {
  received: NodeJS.Signals | undefined;
  #forward: ((signal: NodeJS.Signals) => void) | undefined;
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.received ??= signal;
    this.#forward?.(signal);
  };

  constructor() {
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  forwardTo(forward: (signal: NodeJS.Signals) => void): void {
    this.#forward = forward;
  }

  dispose(): void {
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }
}

/**
 * Starts the proxy a child command runs through (`mitm run`, `mitm browser`): flows, the ready line
 * and the CA notice go to stderr, since the child's stdout is often data and must stay clean.
 */
export async function startProxyForChild(
  options: StartOptions & { readonly ca: string },
  io: Io,
  log: Omit<LogOptions, 'style'>,
): Promise<RunningProxy> {
  return (await startProxyAlongside(options, io, log, async () => undefined)).proxy;
}

/**
 * startProxyForChild, with `alongside(caDir)` run while the proxy starts (`mitm run` writes the CA
 * files its child is pointed at). Awaited only after the proxy is ready, that I/O would let the
 * proxy's warm-up (forge, the origin trust, undici: ~150 ms of CPU) run before the child starts.
 */
export async function startProxyAlongside<T>(
  options: StartOptions & { readonly ca: string },
  io: Io,
  log: Omit<LogOptions, 'style'>,
  alongside: (caDir: string) => Promise<T>,
): Promise<{ proxy: RunningProxy; alongside: T }> {
  const { ca, created } = await initCa(options.ca);
  const [started, done] = await Promise.allSettled([startProxy(options), alongside(ca.dir)]);
  if (started.status === 'rejected') throw inFlagWords(started.reason);
  const proxy = started.value;
  if (done.status === 'rejected') {
    await proxy.close();
    throw done.reason;
  }
  attachLog(proxy, { stdout: io.stderr, stderr: io.stderr }, { ...log, style: styleFor(io.stderr) });
  writeLine(io.stderr, `listening on ${proxy.url}`);
  writeLine(io.stderr, caNotice(ca, created));
  return { proxy, alongside: done.value };
}
