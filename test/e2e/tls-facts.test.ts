// flow.tls and the connection timings, end to end: curl through the proxy (CONNECT, transparent,
// reverse) to local TLS origins with the test PKI's certificate, HTTP/1.1 and HTTP/2 on both hops;
// what the test knows of the certificate (its issuer, its SHA-256 computed here) must come back on
// the flow, its record, the store and the HAR.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { storedToHar, type Flow, type FlowTls, type ListenerInfo } from '../../src/index.js';
import { harCreator } from '../../src/record/har-creator.js';
import { CliProcess } from '../helpers/cli-process.js';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { curl } from '../helpers/curl.js';
import { e2eFixture, httpsOrigin } from '../helpers/fixture.js';
import { startH2Origin } from '../helpers/h2-origin.js';
import type { TestProxy } from '../helpers/proxy.js';
import { openClient } from '../helpers/ws-client.js';
import { startWsOrigin } from '../helpers/ws-origin.js';
import { tempDir } from '../helpers/store-flows.js';

const TEST_CA_CN = 'mitm e2e test root CA';

function listener(proxy: TestProxy, kind: ListenerInfo['kind']): ListenerInfo {
  const found = proxy.proxy.addresses.find((l) => l.kind === kind);
  assert.ok(found, `a ${kind} listener`);
  return found;
}

describe('TLS facts and connection timings', { timeout: 90_000 }, () => {
  let temp: Awaited<ReturnType<typeof tempDir>> | undefined;
  const fx = e2eFixture({
    origins: {
      h1: httpsOrigin,
      h2: (pki) => startH2Origin(pki.origin, { allowHTTP1: true }),
      ws: (pki) => startWsOrigin({ tls: pki.origin }),
    },
    proxies: {
      mitm: async (_pki, origins) => {
        temp = await tempDir('mitm-tls-facts-');
        return {
          store: join(temp.dir, 'flows.db'),
          mode: ['regular', `transparent@127.0.0.1:0:${origins.h1.port}`, `reverse:https://localhost:${origins.h2.port}@127.0.0.1:0`],
        };
      },
    },
  });
  fx.onClose(() => temp?.remove());

  /** curl through the regular listener, trusting the proxy's CA. */
  const viaProxy = async (...args: string[]): Promise<void> => {
    const result = await curl(['--proxy', fx.mitm.url, '--cacert', fx.mitm.caPath, ...args]);
    assert.equal(result.status, 200, result.stderr);
  };
  /** The origin certificate as the test made it. */
  const originCert = (): X509Certificate => new X509Certificate(fx.pki.origin.cert);
  const flowAt = (url: string): Promise<Flow> => fx.mitm.proxy.waitForFlow((flow) => flow.request.url === url);

  /** Asserts the origin side against the test PKI's `localhost` certificate. */
  const assertOrigin = (tls: FlowTls | undefined, alpn: string | undefined): void => {
    const origin = tls?.origin;
    assert.ok(origin, 'the origin side is recorded');
    assert.equal(origin.sni, 'localhost');
    assert.equal(origin.alpn, alpn);
    assert.match(origin.version, /^TLSv1\.[23]$/);
    assert.ok(origin.cipher.length > 0);
    const cert = originCert();
    assert.ok(origin.certificate, 'the origin certificate is recorded');
    assert.equal(origin.certificate.subject, 'localhost');
    assert.equal(origin.certificate.issuer, TEST_CA_CN);
    assert.deepEqual(origin.certificate.sans, ['localhost', '127.0.0.1']);
    assert.equal(origin.certificate.sha256, cert.fingerprint256);
    assert.equal(origin.certificate.chainSha256[0], cert.fingerprint256);
    assert.equal(origin.certificate.validFrom, new Date(cert.validFrom).toISOString());
    assert.equal(origin.certificate.validTo, new Date(cert.validTo).toISOString());
  };

  it('CONNECT, HTTP/1.1 both sides: SNI, ALPN offered and chosen, the origin certificate; a new then a reused connection', async () => {
    const first = `https://localhost:${fx.h1.port}/hello?n=1`;
    const second = `https://localhost:${fx.h1.port}/hello?n=2`;
    // One curl, two requests: the second goes on the same client and origin connections.
    await viaProxy('--http1.1', first, second);
    const flow = await flowAt(first);
    const client = flow.tls?.client;
    assert.ok(client, 'the client side is recorded');
    assert.equal(client.sni, 'localhost');
    assert.deepEqual(client.alpnOffered, ['http/1.1']);
    assert.equal(client.alpn, 'http/1.1');
    assert.match(client.version, /^TLSv1\.[23]$/);
    assert.ok(client.cipher.length > 0);
    assertOrigin(flow.tls, 'http/1.1');
    assert.equal(flow.timings.connection, 'new');
    const { connectStart, connectEnd, tlsStart, tlsEnd } = flow.timings;
    assert.ok(connectStart !== undefined && connectEnd !== undefined && tlsStart !== undefined && tlsEnd !== undefined);
    assert.ok(connectStart <= connectEnd && connectEnd <= tlsStart && tlsStart <= tlsEnd, JSON.stringify(flow.timings));

    const again = await flowAt(second);
    assert.equal(again.timings.connection, 'reused');
    assert.equal(again.timings.connectStart, undefined);
    assert.equal(again.timings.tlsEnd, undefined);
    // One connection's facts, shared by its flows.
    assert.equal(again.tls?.client, flow.tls?.client);
    assert.equal(again.tls?.origin, flow.tls?.origin);

    const record = await fx.mitm.flows.waitFor((r) => r.url === first);
    assert.deepEqual(record.tls, flow.tls);
  });

  it('CONNECT, HTTP/2 both sides: the client offered h2 and http/1.1 and got h2; the origin chose h2', async () => {
    const url = `https://localhost:${fx.h2.port}/hello?h2`;
    await viaProxy('--http2', url);
    const flow = await flowAt(url);
    assert.deepEqual(flow.tls?.client?.alpnOffered, ['h2', 'http/1.1']);
    assert.equal(flow.tls?.client?.alpn, 'h2');
    assertOrigin(flow.tls, 'h2');
    assert.equal(flow.timings.connection, 'new');
  });

  it('transparent and reverse https listeners record both sides too', async () => {
    const transparent = listener(fx.mitm, 'transparent');
    const viaTransparent = `https://localhost:${fx.h1.port}/hello?via=transparent`;
    const t = await curl([
      '--cacert',
      fx.mitm.caPath,
      '--connect-to',
      `localhost:${fx.h1.port}:127.0.0.1:${transparent.port}`,
      viaTransparent,
    ]);
    assert.equal(t.status, 200, t.stderr);
    const tFlow = await flowAt(viaTransparent);
    assert.equal(tFlow.tls?.client?.sni, 'localhost');
    assertOrigin(tFlow.tls, 'http/1.1');

    const reverse = listener(fx.mitm, 'reverse');
    const r = await curl(['--cacert', fx.mitm.caPath, '--http2', `https://localhost:${reverse.port}/hello?via=reverse`]);
    assert.equal(r.status, 200, r.stderr);
    const rFlow = await flowAt(`https://localhost:${fx.h2.port}/hello?via=reverse`);
    assert.equal(rFlow.tls?.client?.sni, 'localhost');
    assert.equal(rFlow.tls?.client?.alpn, 'h2');
    assertOrigin(rFlow.tls, 'h2');
  });

  it('a wss:// WebSocket through CONNECT records both sides on its flow', async () => {
    const client = await openClient(`${fx.ws.url}/tls-facts`, [], { agent: new HttpsProxyAgent(fx.mitm.url), ca: fx.mitm.caPem });
    client.ws.close();
    const flow = await fx.mitm.proxy.waitForFlow((f) => f.request.url.endsWith('/tls-facts'));
    assert.equal(flow.tls?.client?.sni, 'localhost');
    // Node's WebSocket client offers no ALPN, and the upgrade's own connection to the origin none either.
    assert.deepEqual(flow.tls?.client?.alpnOffered, []);
    assert.equal(flow.tls?.client?.alpn, undefined);
    assertOrigin(flow.tls, undefined);
    assert.equal(flow.timings.connection, 'new');
  });

  it('the store keeps the facts and the timings; the HAR has _securityDetails, _tls and connect/ssl', async () => {
    // The first request on its origin connection (the first test's), so connect and ssl are known.
    const url = `https://localhost:${fx.h1.port}/hello?n=1`;
    const flow = await flowAt(url);
    const stored = await waitForStored(fx.mitm, url);
    assert.deepEqual(stored.tls, flow.tls);
    assert.deepEqual(stored.timings, flow.timings);
    // The filter language reads the SNI of stored flows too.
    assert.ok(fx.mitm.proxy.query('sni:localhost').some((f) => f.url === url));
    assert.equal(fx.mitm.proxy.query('sni:*.other.test').length, 0);

    const entry = fx.mitm.proxy.har().log.entries.find((e) => e.request.url === url);
    assert.ok(entry, 'the flow is in the HAR');
    const cert = originCert();
    assert.deepEqual(entry._securityDetails, {
      protocol: flow.tls?.origin?.version.replace('TLSv', 'TLS '),
      cipher: flow.tls?.origin?.cipher,
      subjectName: 'localhost',
      sanList: ['localhost', '127.0.0.1'],
      issuer: TEST_CA_CN,
      validFrom: Math.floor(Date.parse(cert.validFrom) / 1000),
      validTo: Math.floor(Date.parse(cert.validTo) / 1000),
    });
    assert.deepEqual(entry._tls, flow.tls);
    // A new connection: connect and ssl are the parts of opening it the request waited for (never -1).
    const { blocked = -1, connect = -1, ssl = -1, send, wait, receive } = entry.timings;
    assert.ok(connect >= 0 && ssl >= 0 && ssl <= connect, JSON.stringify(entry.timings));
    assert.equal(entry.time, Math.max(0, blocked) + connect + send + wait + receive);
    // The HAR written from the store says the same.
    const storedEntry = storedToHar([stored], harCreator()).log.entries[0];
    assert.deepEqual(storedEntry?._securityDetails, entry._securityDetails);
    assert.deepEqual(storedEntry?.timings, entry.timings);
  });
});

describe('mitm start --flow-detail 4: TLS facts and timings', { timeout: 90_000 }, () => {
  const fx = e2eFixture({ origins: { h1: httpsOrigin } });
  let temp: Awaited<ReturnType<typeof tempDir>> | undefined;
  fx.onClose(() => temp?.remove());

  /** `mitm start --flow-detail 4` trusting the test PKI for origins, plus `args`; curl `path` of the origin through it. */
  const startAndCurl = async (args: readonly string[], path: string): Promise<CliProcess> => {
    temp ??= await tempDir('mitm-tls-detail-');
    const ca = join(temp.dir, 'ca');
    const cli = new CliProcess(['start', '--port', '0', '--ca', ca, '--upstream-ca', fx.pki.ca.certPath, '--flow-detail', '4', ...args]);
    const port = await cli.listeningPort(args.includes('json') ? 'stderr' : 'stdout');
    const result = await curl(['--proxy', `http://127.0.0.1:${port}`, '--cacert', join(ca, 'ca.pem'), '--http1.1', `${fx.h1.url}${path}`]);
    assert.equal(result.status, 200, result.stderr);
    return cli;
  };

  it('pretty: SNI and ALPN of both sides, the origin certificate subject and issuer, connect/TLS/wait/receive', async () => {
    const cli = await startAndCurl([], '/hello?pretty');
    try {
      await cli.waitForLine('stdout', /^GET https:\/\/localhost:\d+\/hello\?pretty 200 /);
      await cli.waitForLine('stdout', /^ {4}tls client: SNI localhost, ALPN offered http\/1\.1 → http\/1\.1, TLSv1\.[23] \S+$/);
      await cli.waitForLine('stdout', /^ {4}tls origin: SNI localhost, ALPN http\/1\.1, TLSv1\.[23] \S+/);
      await cli.waitForLine(
        'stdout',
        /^ {4}origin certificate: localhost \(localhost, 127\.0\.0\.1\) issued by mitm e2e test root CA, valid \S+ → \S+$/,
      );
      const fingerprint = new X509Certificate(fx.pki.origin.cert).fingerprint256;
      await cli.waitForLine('stdout', new RegExp(`^ {4}origin certificate sha256: ${fingerprint}$`));
      await cli.waitForLine('stdout', /^ {4}timings: connect \d+ ms, TLS \d+ ms, wait \d+ ms, receive \d+ ms \(new origin connection/);
    } finally {
      await cli.kill();
    }
  });

  it('json: the record carries tls and the timing phases as fields', async () => {
    const cli = await startAndCurl(['--log-format', 'json'], '/hello?json');
    try {
      const { input } = await cli.waitForLine('stdout', /^\{.*"url":"https:\/\/localhost:\d+\/hello\?json"/);
      const record = JSON.parse(input) as { tls: FlowTls; timings: { connection: string; wait: number; receive: number } };
      assert.equal(record.tls.client?.sni, 'localhost');
      assert.equal(record.tls.origin?.certificate?.issuer, TEST_CA_CN);
      assert.equal(record.tls.origin?.certificate?.sha256, new X509Certificate(fx.pki.origin.cert).fingerprint256);
      assert.equal(record.timings.connection, 'new');
      assert.equal(typeof record.timings.wait, 'number');
    } finally {
      await cli.kill();
    }
  });
});

/** The stored flow of `url`, once the store has written it. */
async function waitForStored(proxy: TestProxy, url: string): Promise<ReturnType<TestProxy['proxy']['query']>[number]> {
  await proxy.proxy.store?.flush();
  const [stored] = proxy.proxy.query('').filter((flow) => flow.url === url);
  assert.ok(stored, `${url} is stored`);
  return stored;
}
