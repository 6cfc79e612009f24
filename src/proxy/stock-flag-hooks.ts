// The stock hooks of the `block`, `fail`, `mock`, `mapLocal`, `mapRemote`, `setHeader` and
// `throttle` options, built from their values; flag-hooks.ts imports this only when one is given.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProxyConfig } from '../config/schema.js';
import { isMitmError, MitmError } from '../errors.js';
import { blockRequests } from '../hooks/block-hosts.js';
import { failRequests, parseShare } from '../hooks/fail-requests.js';
import { mapLocal } from '../hooks/map-local.js';
import { mapRemote } from '../hooks/map-remote.js';
import { mockServer } from '../hooks/mock-server.js';
import { setHeaders } from '../hooks/set-headers.js';
import { throttle } from '../hooks/throttle.js';
import type { Hook } from '../hooks/types.js';
import { type FlagHook, flowFilter, type HookFlagKey } from './flag-hooks.js';

/** Builds the hooks of `hooksFromOptions` (flag-hooks.ts), which loads this module only when one of the options has a value. */
export function stockHooks(config: Pick<ProxyConfig, HookFlagKey | 'upstreamTimeout'>, nameOf: (key: string) => string): FlagHook[] {
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
