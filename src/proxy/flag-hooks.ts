import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProxyConfig } from '../config/schema.js';
import { isMitmError, MitmError } from '../errors.js';
import type { Flow } from '../flow/flow.js';
import { blockRequests } from '../hooks/block-hosts.js';
import { failRequests, parseShare } from '../hooks/fail-requests.js';
import { mapLocal } from '../hooks/map-local.js';
import { mapRemote } from '../hooks/map-remote.js';
import { mockServer } from '../hooks/mock-server.js';
import { setHeaders } from '../hooks/set-headers.js';
import { throttle } from '../hooks/throttle.js';
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

/**
 * The stock hooks the `block`, `fail`, `mock`, `mapLocal`, `mapRemote`, `setHeader` and `throttle`
 * options ask for, in that order (answers first, rewrites after). A bad value throws `config_invalid` naming the
 * option through `nameOf` (the CLI passes one that spells flags) and the part that is wrong.
 */
export function hooksFromOptions(
  config: Pick<ProxyConfig, HookFlagKey | ReplayKey | 'upstreamTimeout'>,
  nameOf: (key: string) => string = (key) => key,
): FlagHook[] {
  checkReplayOptions(config, nameOf);
  const out: FlagHook[] = [];
  const each = (key: HookFlagKey, build: (value: string, fail: (what: string) => never) => Hook): void => {
    for (const value of config[key]) {
      const fail = (what: string): never => {
        throw new MitmError('config_invalid', `${nameOf(key)} ${JSON.stringify(value)}: ${what}`);
      };
      try {
        out.push({ key, hook: { ...build(value, fail), name: kebab(key) } });
      } catch (error) {
        // A filter's or a rate's own error, not yet framed with the option and its value.
        const framed = isMitmError(error) && error.message.startsWith(`${nameOf(key)} `);
        if (isMitmError(error) && !framed && (error.code === 'filter_invalid' || error.code === 'config_invalid')) fail(error.message);
        throw error;
      }
    }
  };
  each('block', (value) => blockRequests(flowFilter(value), `--block ${value}`));
  each('fail', (value, fail) => {
    const parts = /^(?:(.*):)?([^:,]+)(?:,(502|timeout|reset))?$/s.exec(value);
    if (!parts) return fail('expected [FILTER:]SHARE[,502|timeout|reset], e.g. 10%, host:api.test:0.5,timeout');
    const [, filter, share = '', kind] = parts;
    return failRequests({
      share: parseShare(share),
      kind: kind === 'timeout' || kind === 'reset' ? kind : '502',
      timeoutMs: config.upstreamTimeout,
      ...(filter === undefined || filter === '' ? {} : { filter: flowFilter(filter) }),
    });
  });
  each('mock', (value, fail) => {
    const parts = /^(.*)=(\d{3})(?::(.+))?$/s.exec(value);
    if (!parts) return fail('expected FILTER=STATUS[:FILE], e.g. host:api.test=503 or path:/users=200:users.json');
    const [, filter = '', status = '', file] = parts;
    const code = Number(status);
    if (code < 100 || code > 599) return fail(`status ${status} is not 100–599`);
    const mock = mockServer();
    const rule = mock.any(/^/, { filter: flowFilter(filter) });
    if (file === undefined) rule.reply(code);
    else rule.reply(code, readMockFile(file, fail), { 'content-type': typeOf(file) });
    return mock.hook;
  });
  each('mapLocal', (value, fail) => {
    const at = value.lastIndexOf('=');
    if (at <= 0 || at === value.length - 1) return fail('expected URL_PREFIX=PATH, e.g. https://app.test/static/=./dist');
    return mapLocal(urlOrFail(value.slice(0, at), fail), value.slice(at + 1));
  });
  each('mapRemote', (value, fail) => {
    const parts = /^(.+?)=([a-z][a-z0-9+.-]*:\/\/.+)$/is.exec(value);
    if (!parts) return fail('expected FROM_URL=TO_URL, e.g. https://api.prod.test/=http://127.0.0.1:9000/');
    return mapRemote(urlOrFail(parts[1] ?? '', fail), parts[2] ?? '');
  });
  each('setHeader', (value, fail) => {
    // Lazy filter: the first `req:`/`res:` followed by a header name and `=` ends it (names hold no ':').
    const parts = /^(?:(.*?):)?(req|res):([^:=\s]+)=(.*)$/s.exec(value);
    if (!parts) return fail('expected [FILTER:]req|res:NAME=VALUE, e.g. req:authorization=Bearer x or host:api.test:res:cache-control=');
    const [, filter, side, name = '', header = ''] = parts;
    const edits = { [name]: header === '' ? null : header };
    return setHeaders({
      ...(side === 'req' ? { request: edits } : { response: edits }),
      ...(filter === undefined || filter === '' ? {} : { filter: flowFilter(filter) }),
    });
  });
  each('throttle', (value, fail) => {
    // The filter ends at the last ':' (a rate holds none); `,latency=MS` may follow the rate.
    const parts = /^(?:(.*):)?([^:,]+)(?:,latency=(\d+)(?:ms)?)?$/s.exec(value);
    if (!parts) return fail('expected [FILTER:]RATE[,latency=MS], e.g. 256k, 2m,latency=100 or host:api.test:slow-3g');
    const [, filter, rate = '', latency] = parts;
    return throttle({
      rate,
      ...(latency === undefined ? {} : { latency: Number(latency) }),
      ...(filter === undefined || filter === '' ? {} : { filter: flowFilter(filter) }),
    });
  });
  return out;
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

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function urlOrFail(url: string, fail: (what: string) => never): string {
  if (!/^https?:\/\/[^/?#]+/i.test(url.replaceAll('*', 'x'))) fail(`${JSON.stringify(url)} is not an http:// or https:// URL`);
  return url;
}

function readMockFile(file: string, fail: (what: string) => never): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    return fail(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

const TYPES: Readonly<Record<string, string>> = {
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function typeOf(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}
