import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { exchangeRaw, send } from '../helpers/client.js';
import { curl, curlVia } from '../helpers/curl.js';
import { startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

// --proxy-auth / --proxy-auth-file: 407 without valid Basic credentials, and flows carry the user.
describe('proxy: proxy authentication', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let plain: Origin;
  let mitm: TestProxy;

  before(async () => {
    pki = await createTestPki();
    [origin, plain] = await Promise.all([startOrigin(pki.origin), startOrigin()]);
    const htpasswd = join(pki.dir, 'htpasswd');
    const sha = createHash('sha1').update('sha-pass').digest('base64');
    // htpasswd -B writes $2y$; bcryptjs writes $2b$ for the same algorithm.
    const bcryptHash = bcrypt.hashSync('bcrypt-pass', 4).replace(/^\$2b\$/, '$2y$');
    await writeFile(htpasswd, `# users\nbob:${bcryptHash}\ncarol:{SHA}${sha}\n\ndave:plain:with:colons\n`);
    mitm = await startTestProxy(pki, { proxyAuth: ['alice:wonderland'], proxyAuthFile: htpasswd });
  });

  after(async () => {
    await mitm?.close();
    await Promise.all([origin?.close(), plain?.close()]);
    await pki?.cleanup();
  });

  it('answers CONNECT without credentials with 407 and Proxy-Authenticate', async () => {
    const res = await curlVia(mitm.url, [`https://localhost:${origin.port}/hello`], mitm.caPath);
    assert.equal(res.connectStatus, 407, res.stderr);
    assert.notEqual(res.exitCode, 0);
    const raw = (await exchangeRaw(mitm.port, `CONNECT localhost:${origin.port} HTTP/1.1\r\nHost: localhost:${origin.port}\r\n\r\n`)).toString('latin1');
    assert.match(raw, /^HTTP\/1\.1 407 /);
    assert.match(raw, /\r\nproxy-authenticate: Basic realm="mitm"\r\n/i);
    assert.match(raw, /\r\nx-mitm-error: proxy_auth_required\r\n/i);
  });

  it('answers plain requests without or with wrong credentials with 407', async () => {
    const none = await curlVia(mitm.url, [`http://localhost:${plain.port}/hello`]);
    assert.equal(none.status, 407);
    assert.equal(none.headers['proxy-authenticate'], 'Basic realm="mitm"');
    assert.equal(none.headers['x-mitm-error'], 'proxy_auth_required');
    const wrong = await curlVia(mitm.url, ['--proxy-user', 'alice:guess', `http://localhost:${plain.port}/hello`]);
    assert.equal(wrong.status, 407);
    const unknown = await curlVia(mitm.url, ['--proxy-user', 'mallory:wonderland', `http://localhost:${plain.port}/hello`]);
    assert.equal(unknown.status, 407);
    const flow = await mitm.flows.waitFor((f) => f.error?.code === 'proxy_auth_required');
    assert.equal(flow.status, 407);
    assert.equal(flow.client.user, undefined);
  });

  it('lets the right credentials through, for every kind of password entry, and records the user', async () => {
    const users = [['alice', 'wonderland'], ['bob', 'bcrypt-pass'], ['carol', 'sha-pass'], ['dave', 'plain:with:colons']] as const;
    for (const [user, password] of users) {
      const url = `https://localhost:${origin.port}/hello?user=${user}`;
      const res = await curl(['--proxy', mitm.url, '--proxy-user', `${user}:${password}`, '--cacert', mitm.caPath, url]);
      assert.equal(res.text, 'hello', `${user}: ${res.stderr}`);
      const flow = await mitm.flows.waitFor((f) => f.url === url);
      assert.equal(flow.client.user, user);
    }
    const recorded = mitm.proxy.flows.find((f) => f.request.url.endsWith('user=bob'));
    assert.equal(recorded?.client.user, 'bob');
  });

  it('strips Proxy-Authorization before forwarding and never records a password', async () => {
    const url = `http://localhost:${plain.port}/echo`;
    const res = await curl(['--proxy', mitm.url, '--proxy-user', 'alice:wonderland', url]);
    assert.equal(res.status, 200, res.stderr);
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.headers['proxy-authorization'], undefined);
    const flow = await mitm.flows.waitFor((f) => f.url === url);
    assert.equal(flow.client.user, 'alice');
    // proxy.config too: a harness may log it; the engine still checks against the real password (above).
    const everything = JSON.stringify({ har: mitm.proxy.har(), flows: mitm.flows.items, config: mitm.proxy.config }) + inspect(mitm.proxy, { depth: 4 });
    for (const secret of ['wonderland', 'bcrypt-pass', 'sha-pass', Buffer.from('alice:wonderland').toString('base64')]) {
      assert.ok(!everything.includes(secret), `${secret} leaked into the records`);
    }
  });

  it('still serves the CA page on its own address without credentials', async () => {
    const res = await send({ host: '127.0.0.1', port: mitm.port, path: '/cert/pem', agent: false });
    assert.equal(res.status, 200);
    assert.match(res.text, /BEGIN CERTIFICATE/);
  });
});
