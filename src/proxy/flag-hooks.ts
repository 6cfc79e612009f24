import type { ProxyConfig } from '../config/schema.js';
import { MitmError } from '../errors.js';
import type { Flow } from '../flow/flow.js';
import type { Hook } from '../hooks/types.js';
import { compileFilter, subjectOfFlow } from '../record/filter/filter.js';
import type { ServerReplay } from '../record/server-replay.js';
import { DEFAULT_REPLAY_MATCH } from '../config/replay-match.js';

/** The options that install stock hooks, in the order their hooks run. */
export type HookFlagKey = 'block' | 'fail' | 'mock' | 'mapLocal' | 'mapRemote' | 'setHeader' | 'throttle';

/** One hook made from an option value, with the option it came from. */
export interface FlagHook {
  readonly hook: Hook;
  readonly key: HookFlagKey;
}

/** Compiles filter text (docs/filters.md) into a predicate over live flows; throws `filter_invalid` with the column. */
export function flowFilter(text: string): (flow: Flow) => boolean {
  const matches = compileFilter(text);
  return (flow) => matches(subjectOfFlow(flow));
}

/** The stock-hook options, in the order their hooks run (answers first, rewrites after). */
const HOOK_FLAG_KEYS: readonly HookFlagKey[] = ['block', 'fail', 'mock', 'mapLocal', 'mapRemote', 'setHeader', 'throttle'];

/** True when any of the stock-hook options has a value. */
function anyHookFlag(config: Pick<ProxyConfig, HookFlagKey>): boolean {
  return HOOK_FLAG_KEYS.some((key) => config[key].length > 0);
}

/**
 * The stock hooks the `block`, `fail`, `mock`, `mapLocal`, `mapRemote`, `setHeader` and `throttle`
 * options ask for, in that order. A bad value throws `config_invalid` naming the option through
 * `nameOf` (the CLI passes one that spells flags) and the part that is wrong. The hooks' code is
 * loaded only when one of these options has a value: start-up does not compile the mock server,
 * the throttle and the rest for a proxy that uses none (docs/performance.md, "Start-up", round four).
 */
export async function hooksFromOptions(
  config: Pick<ProxyConfig, HookFlagKey | ReplayKey | 'upstreamTimeout'>,
  nameOf: (key: string) => string = (key) => key,
): Promise<FlagHook[]> {
  checkReplayOptions(config, nameOf);
  if (!anyHookFlag(config)) return [];
  return (await import('./stock-flag-hooks.js')).stockHooks(config, nameOf);
}

/** The options of server replay (docs/replay.md). */
export type ReplayKey = 'serveFrom' | 'replayMatch' | 'replayIgnoreParam' | 'replayIgnoreHeader' | 'replayUnmatched';

/**
 * The `serveFrom` option's server replay, named `serve-from`, or undefined without that option.
 * Throws `config_invalid` naming the option and the file when the file is missing, not a HAR or
 * store, or holds nothing that can be answered with (a HAR saved without response bodies).
 */
export async function replayFromOptions(config: Pick<ProxyConfig, ReplayKey>): Promise<ServerReplay | undefined> {
  const file = config.serveFrom;
  if (file === undefined) return undefined;
  const fail = (what: string, cause?: unknown): never => {
    throw new MitmError('config_invalid', `serveFrom ${file}: ${what}`, { cause });
  };
  // Loaded only with --serve-from: reading HAR files and stores is not start-up's business.
  const [{ readRecording }, { serverReplay }] = await Promise.all([
    import('../record/replay-source.js'),
    import('../record/server-replay.js'),
  ]);
  const flows = await readRecording(file).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // readRecording's own errors start with the file's name, said once here; a store's say its path.
    return fail(message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message, error);
  });
  if (flows.length === 0) fail('it holds no recorded requests');
  const replay = serverReplay(flows, {
    name: 'serve-from',
    match: config.replayMatch,
    ignoreParams: config.replayIgnoreParam,
    ignoreHeaders: config.replayIgnoreHeader,
    unmatched: config.replayUnmatched,
  });
  if (replay.recordings === 0) {
    const reasons = new Map<string, number>();
    for (const { reason } of replay.leftOut) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    const listed = [...reasons].map(([reason, count]) => `${count} × ${reason}`).join('; ');
    fail(`none of its ${flows.length} recorded exchanges can be answered from: ${listed}`);
  }
  return replay;
}

/** The `replay*` options refine `serveFrom`; given without it they would silently do nothing. */
function checkReplayOptions(config: Pick<ProxyConfig, ReplayKey>, nameOf: (key: string) => string): void {
  if (config.serveFrom !== undefined) return;
  const given =
    config.replayMatch !== DEFAULT_REPLAY_MATCH
      ? 'replayMatch'
      : config.replayIgnoreParam.length > 0
        ? 'replayIgnoreParam'
        : config.replayIgnoreHeader.length > 0
          ? 'replayIgnoreHeader'
          : config.replayUnmatched !== 'forward'
            ? 'replayUnmatched'
            : undefined;
  if (given !== undefined) throw new MitmError('config_invalid', `${nameOf(given)} needs ${nameOf('serveFrom')} FILE`);
}

/** `hooks: set-header ×2, map-remote, add-auth (./hooks/auth.ts)`: what runs on every flow, for the start-up banner. */
export function describeHooks(hooks: ReadonlyArray<{ readonly name: string; readonly source: string | undefined }>): string | undefined {
  if (hooks.length === 0) return undefined;
  const groups: Array<{ label: string; count: number }> = [];
  for (const { name, source } of hooks) {
    // A file shows where it came from; an option's hooks carry its name already.
    const label = source === undefined || !/[./\\]/.test(source) ? name : `${name} (${source})`;
    const last = groups.at(-1);
    if (last?.label === label) last.count += 1;
    else groups.push({ label, count: 1 });
  }
  return `hooks: ${groups.map(({ label, count }) => (count > 1 ? `${label} ×${count}` : label)).join(', ')}`;
}
