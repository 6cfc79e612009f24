// Issue 16, Operability: --metrics serves Prometheus text (scraped and parsed here) and /healthz.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { send, sendViaProxy } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { e2eFixture, httpOrigin, httpsOrigin, selfSignedOrigin } from '../helpers/fixture.js';

const fx = e2eFixture({
  origins: { plain: httpOrigin, secure: httpsOrigin, untrusted: selfSignedOrigin },
  proxies: { proxy: { metrics: '127.0.0.1:0' } },
});

/** One sample of the text format: name, labels, value. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A minimal parser of the Prometheus text format (0.0.4): sample lines only, comments checked for TYPE. */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] ?? '', type[2] ?? '');
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[label[1] ?? ''] = label[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return { samples, types };
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('--metrics', () => {
  test('GET /metrics after traffic reports flows, origin errors, mints, cache hits, connections, bytes and event-loop delay', async () => {
    const url = fx.proxy.proxy.metricsUrl;
    assert.ok(url !== undefined);
    assert.equal((await sendViaProxy(fx.proxy.port, `${fx.plain.url}/hello`)).status, 200);
    // Two intercepted requests to one host: one mint, then a cache hit.
    for (let i = 0; i < 2; i++) {
      const res = await curlVia(fx.proxy.url, [`https://localhost:${fx.secure.port}/hello`], fx.proxy.caPath);
      assert.equal(res.status, 200, res.stderr);
    }
    assert.equal((await sendViaProxy(fx.proxy.port, 'http://127.0.0.1:1/refused')).status, 502);
    // TLS failures on each side: a client without our CA (curl says unknown CA), an origin nobody trusts.
    const distrusting = await curlVia(fx.proxy.url, [`https://localhost:${fx.secure.port}/hello`]);
    assert.notEqual(distrusting.exitCode, 0);
    await fx.proxy.clientIssues.waitFor((issue) => issue.code === 'client_tls');
    const untrusted = await curlVia(fx.proxy.url, [`https://localhost:${fx.untrusted.port}/hello`], fx.proxy.caPath);
    assert.equal(untrusted.status, 502);
    const scraped = await send({ host: new URL(url).hostname, port: Number(new URL(url).port), path: '/metrics', agent: false });
    assert.equal(scraped.status, 200);
    assert.match(String(scraped.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseMetrics(scraped.text);
    assert.ok((value(samples, 'mitm_flows_total', { status_class: '2xx' }) ?? 0) >= 3);
    assert.equal(value(samples, 'mitm_flows_total', { status_class: '5xx' }), 2);
    assert.equal(value(samples, 'mitm_tls_handshake_failures_total', { side: 'client', reason: 'unknown_ca' }), 1);
    assert.equal(value(samples, 'mitm_tls_handshake_failures_total', { side: 'origin', reason: 'verify' }), 1);
    assert.equal(value(samples, 'mitm_origin_errors_total', { code: 'upstream_tls_verify' }), 1);
    assert.equal(value(samples, 'mitm_origin_errors_total', { code: 'upstream_refused' }), 1);
    // localhost once: the distrusting client and the untrusted origin reuse the cached leaf.
    assert.equal(value(samples, 'mitm_leaf_mints_total'), 1);
    assert.ok((value(samples, 'mitm_leaf_cache_hits_total') ?? 0) >= 1);
    assert.equal(types.get('mitm_leaf_mint_seconds'), 'histogram');
    assert.equal(value(samples, 'mitm_leaf_mint_seconds_count'), 1);
    assert.ok(value(samples, 'mitm_client_connections') !== undefined);
    assert.ok(value(samples, 'mitm_origin_connections') !== undefined);
    assert.ok((value(samples, 'mitm_client_bytes_total', { direction: 'in' }) ?? 0) > 0);
    assert.ok((value(samples, 'mitm_client_bytes_total', { direction: 'out' }) ?? 0) > 0);
    assert.ok(value(samples, 'mitm_event_loop_delay_seconds', { quantile: '0.99' }) !== undefined);
    assert.equal(types.get('mitm_tls_handshake_failures_total'), 'counter');
  });

  test('GET /healthz answers ok; other paths 404', async () => {
    const url = new URL(fx.proxy.proxy.metricsUrl ?? '');
    const health = await send({ host: url.hostname, port: Number(url.port), path: '/healthz', agent: false });
    assert.equal(health.status, 200);
    assert.equal(health.text, 'ok\n');
    const other = await send({ host: url.hostname, port: Number(url.port), path: '/', agent: false });
    assert.equal(other.status, 404);
  });
});
