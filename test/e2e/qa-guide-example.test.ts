import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { startProxy, writeHarFile, type Har, type RunningProxy } from '../../src/index.js';

let proxy: RunningProxy;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qa-example-'));
  // Port 0 picks a free port; a root CA is created in the folder on first use.
  proxy = await startProxy({ port: 0, ca: join(dir, 'certs') });
  // Mock one endpoint: the proxy answers it and never contacts api.example.test.
  proxy.use({
    name: 'mock profile',
    onRequest(flow) {
      const url = new URL(flow.request.url);
      if (flow.request.method !== 'GET' || url.hostname !== 'api.example.test' || url.pathname !== '/v1/profile') return;
      flow.tags.add('mocked');
      flow.respond({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada' }),
      });
    },
  });
});

after(async () => {
  await proxy.close();
  await rm(dir, { recursive: true, force: true });
});

test('the client sends its token and reads the profile', async () => {
  const res = await getThroughProxy('https://api.example.test/v1/profile', { authorization: 'Bearer test-token' });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { name: 'Ada' });

  // Assert on what the client sent: waitForFlow finds a flow already recorded or waits for it.
  const flow = await proxy.waitForFlow((f) => f.request.url === 'https://api.example.test/v1/profile');
  assert.equal(flow.request.headers.authorization, 'Bearer test-token');
  assert.ok(flow.tags.has('mocked'));
  assert.equal(proxy.flows.length, 1);

  // The same flows as HAR 1.2; write it to open in Chrome DevTools (Network → Import HAR).
  const har = proxy.har();
  assert.equal(har.log.entries[0]?.response.content.text, '{"name":"Ada"}');
  const file = join(dir, 'profile.har');
  await writeHarFile(file, har);
  const saved = JSON.parse(await readFile(file, 'utf8')) as Har;
  assert.equal(saved.log.entries.length, 1);
});

/** GETs `url` the way an HTTPS client set up with a proxy does: CONNECT, then TLS trusting the proxy's CA. */
async function getThroughProxy(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const connect = http.request({
    host: proxy.host,
    port: proxy.port,
    method: 'CONNECT',
    path: `${target.hostname}:${target.port || 443}`,
  });
  connect.end();
  const [answer, socket] = (await once(connect, 'connect')) as [http.IncomingMessage, Socket];
  assert.equal(answer.statusCode, 200);
  const secure = tls.connect({ socket, servername: target.hostname, ca: proxy.caCertPem });
  await once(secure, 'secureConnect');
  const req = https.request(url, { headers, createConnection: () => secure });
  req.end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.setEncoding('utf8');
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, body };
}
