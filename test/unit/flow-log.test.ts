import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import {
  attachLog,
  formatBytes,
  formatClientIssue,
  formatDuration,
  formatFlow,
  formatFlowJson,
  formatTunnel,
  printable,
} from '../../src/cli/output/flow-log.js';
import type { Io } from '../../src/cli/output/io.js';
import type { FlowRecord, ProxyEventMap, TunnelRecord } from '../../src/events.js';

const client = { address: '127.0.0.1', port: 50000 };

/** A successful flow; tests override what they look at. */
function flow(overrides: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: 1,
    method: 'GET',
    url: 'https://example.com/path',
    status: 200,
    contentType: 'text/html; charset=utf-8',
    responseBytes: 12_345,
    durationMs: 45.2,
    error: undefined,
    client,
    mode: 'regular',
    ...overrides,
  };
}

/** A passthrough tunnel; tests override what they look at. */
function tunnel(overrides: Partial<TunnelRecord> = {}): TunnelRecord {
  return { host: 'apple.com', port: 443, client, reason: 'passthrough', error: undefined, ...overrides };
}

test('sizes use SI units with one decimal', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1000), '1.0 kB');
  assert.equal(formatBytes(12_345), '12.3 kB');
  assert.equal(formatBytes(999_949), '999.9 kB');
  assert.equal(formatBytes(999_950), '1.0 MB');
  assert.equal(formatBytes(4_000_000), '4.0 MB');
  assert.equal(formatBytes(2.5e9), '2.5 GB');
  assert.equal(formatBytes(7e15), '7000.0 TB');
});

test('durations are whole milliseconds, then seconds past 10 s', () => {
  assert.equal(formatDuration(0.3), '0 ms');
  assert.equal(formatDuration(45.6), '46 ms');
  assert.equal(formatDuration(9999), '9999 ms');
  assert.equal(formatDuration(12_345), '12.3 s');
});

test('a successful flow reads method, URL, status, media type, size, time', () => {
  assert.equal(formatFlow(flow()), 'GET https://example.com/path 200 text/html 12.3 kB 45 ms');
  const empty = flow({ contentType: undefined, responseBytes: 0, status: 204 });
  assert.equal(formatFlow(empty), 'GET https://example.com/path 204 0 B 45 ms');
});

test('a failed flow shows its error code and message instead of the body', () => {
  const refused = flow({
    status: 502,
    durationMs: 3,
    error: { code: 'upstream_refused', message: 'example.com:443 refused the connection' },
  });
  assert.equal(formatFlow(refused), 'GET https://example.com/path 502 upstream_refused 3 ms (example.com:443 refused the connection)');
  const aborted = flow({ error: { code: 'aborted', message: 'the client went away' }, responseBytes: 2048 });
  assert.equal(formatFlow(aborted), 'GET https://example.com/path 200 aborted 2.0 kB 45 ms (the client went away)');
  const headless = flow({ status: undefined, error: { code: 'upstream_reset', message: 'reset' } });
  assert.match(formatFlow(headless), /^GET https:\/\/example\.com\/path --- upstream_reset /);
});

test('tunnels say why they were not intercepted, or how they failed', () => {
  assert.equal(formatTunnel(tunnel()), 'CONNECT apple.com:443 tunnelled (passthrough)');
  const elsewhere = tunnel({ reason: 'not-intercepted' });
  assert.equal(formatTunnel(elsewhere), 'CONNECT apple.com:443 tunnelled (not intercepted)');
  assert.equal(formatTunnel(tunnel({ host: '::1', port: 8443 })), 'CONNECT [::1]:8443 tunnelled (passthrough)');
  const failed = tunnel({ error: { code: 'upstream_timeout', message: 'no answer in 30000 ms' } });
  assert.equal(formatTunnel(failed), 'CONNECT apple.com:443 504 upstream_timeout (no answer in 30000 ms)');
  const looped = tunnel({ client: { ...client, mode: 'transparent' }, error: { code: 'loop', message: 'it is this proxy itself' } });
  assert.equal(formatTunnel(looped), 'transparent apple.com:443 508 loop (it is this proxy itself)');
});

test('client issues name the client, the host when known, and the code', () => {
  const issue = { host: 'example.com', client, code: 'client_tls', message: 'unknown ca' } as const;
  assert.equal(formatClientIssue(issue), 'client 127.0.0.1:50000 for example.com: client_tls (unknown ca)');
  assert.equal(formatClientIssue({ ...issue, host: undefined, code: 'bad_request' }), 'client 127.0.0.1:50000: bad_request (unknown ca)');
});

test('control characters from the network cannot reach the terminal raw', () => {
  assert.equal(printable('a\u001b[2Jb\u009bc\u0007'), 'a\\x1b[2Jb\\x9bc\\x07');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters that must not be there.
  assert.doesNotMatch(formatFlow(flow({ url: 'https://x/\u001b]0;owned\u0007' })), /[\u0000-\u001f\u007f-\u009f]/);
});

test('json lines are the FlowRecord itself, one line, with no raw control characters', () => {
  const record = flow({ url: 'https://x/\u009b\n' });
  const line = formatFlowJson(record);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters that must not be there.
  assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/);
  assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(record)));
});

/** An Io that records what each stream received, as lines. */
function recorder(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (lines: string[]) => ({
    write: (chunk: string | Uint8Array) => lines.push(...String(chunk).split('\n').filter(Boolean)) > 0,
  });
  return { out, err, stdout: sink(out), stderr: sink(err) };
}

test('attachLog prints flows and tunnels to stdout and client issues to stderr', () => {
  const proxy = new EventEmitter<ProxyEventMap>();
  const io = recorder();
  attachLog(proxy, io, { quiet: false, logFormat: 'pretty' });
  proxy.emit('flow', flow());
  proxy.emit('tunnel', tunnel());
  proxy.emit('client-issue', { host: undefined, client, code: 'client_tls', message: 'x' });
  assert.deepEqual(io.out, ['GET https://example.com/path 200 text/html 12.3 kB 45 ms', 'CONNECT apple.com:443 tunnelled (passthrough)']);
  assert.deepEqual(io.err, ['client 127.0.0.1:50000: client_tls (x)']);
});

test('quiet keeps only failures; json keeps stdout to FlowRecords', () => {
  const proxy = new EventEmitter<ProxyEventMap>();
  const io = recorder();
  attachLog(proxy, io, { quiet: true, logFormat: 'json' });
  const failed = flow({ status: 502, error: { code: 'upstream_dns', message: 'no such host' } });
  proxy.emit('flow', flow());
  proxy.emit('flow', failed);
  proxy.emit('tunnel', tunnel());
  proxy.emit('tunnel', tunnel({ error: { code: 'upstream_refused', message: 'refused' } }));
  assert.deepEqual(
    io.out.map((line): unknown => JSON.parse(line)),
    [failed],
  );
  assert.deepEqual(io.err, ['CONNECT apple.com:443 502 upstream_refused (refused)']);
});
