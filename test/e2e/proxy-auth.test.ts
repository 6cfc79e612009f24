import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { exchangeRaw, send } from '../helpers/client.js';
import { curl, curlVia } from '../helpers/curl.js';
import { e2eFixture, httpOrigin, httpsOrigin } from '../helpers/fixture.js';
import type { EchoBody } from '../helpers/origin.js';

// --proxy-auth / --proxy-auth-file: 407 without valid Basic credentials, and flows carry the user.
describe('proxy: proxy authentication', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: { origin: httpsOrigin, plain: httpOrigin },
    proxies: {
      mitm: async (pki) => {
        const htpasswd = join(pki.dir, 'htpasswd');
        const sha = createHash('sha1').update('sha-pass').digest('base64');
        // htpasswd -B writes $2y$; bcryptjs writes $2b$ for the same algorithm.
        const bcryptHash = bcrypt.hashSync('bcrypt-pass', 4).replace(/^\$2b\$/, '$2y$');
        await writeFile(htpasswd, `# users\nbob:${bcryptHash}\ncarol:{SHA}${sha}\n\ndave:plain:with:colons\n`);
        return { proxyAuth: ['alice:wonderland'], proxyAuthFile: htpasswd };
      },
    },
  });

  it('answers CONNECT without credentials with 407 and Proxy-Authenticate', async () => {
    const res = await curlVia(fx.mitm.url, [`https://localhost:${fx.origin.port}/hello`], fx.mitm.caPath);
    assert.equal(res.connectStatus, 407, res.stderr);
    assert.notEqual(res.exitCode, 0);
    const raw = (
      await exchangeRaw(fx.mitm.port, `CONNECT localhost:${fx.origin.port} HTTP/1.1\r\nHost: localhost:${fx.origin.port}\r\n\r\n`)
    ).toString('latin1');
    assert.match(raw, /^HTTP\/1\.1 407 /);
    assert.match(raw, /\r\nproxy-authenticate: Basic realm="mitm"\r\n/i);
    assert.match(raw, /\r\nx-mitm-error: proxy_auth_required\r\n/i);
  });

  it('answers plain requests without or with wrong credentials with 407', async () => {
    // Each attempt has its own URL, so each assertion reads the flow of that very attempt.
    const attempts = [
      { name: 'none', args: [] },
      { name: 'wrong-password', args: ['--proxy-user', 'alice:guess'] },
      { name: 'unknown-user', args: ['--proxy-user', 'mallory:wonderland'] },
      // A known user with another user's password: must not pass as either of them.
      { name: 'crossed', args: ['--proxy-user', 'bob:wonderland'] },
    ];
    const connectionsBefore = fx.plain.connectionCount();
    for (const { name, args } of attempts) {
      const url = `http://localhost:${fx.plain.port}/hello?attempt=${name}`;
      const res = await curlVia(fx.mitm.url, [...args, url]);
      assert.equal(res.status, 407, name);
      assert.equal(res.headers['proxy-authenticate'], 'Basic realm="mitm"', name);
      assert.equal(res.headers['x-mitm-error'], 'proxy_auth_required', name);
      assert.notEqual(res.text, 'hello', `${name}: the origin's answer came through`);
      const flow = await fx.mitm.flows.waitFor((f) => f.url === url);
      assert.equal(flow.status, 407, name);
      assert.equal(flow.error?.code, 'proxy_auth_required', name);
      assert.equal(flow.client.user, undefined, `${name}: a rejected attempt is recorded without a user`);
    }
    assert.equal(fx.plain.connectionCount(), connectionsBefore, 'no rejected request reached the origin');
  });

  it('lets the right credentials through, for every kind of password entry, and records the user', async () => {
    const users = [
      ['alice', 'wonderland'],
      ['bob', 'bcrypt-pass'],
      ['carol', 'sha-pass'],
      ['dave', 'plain:with:colons'],
    ] as const;
    for (const [user, password] of users) {
      const url = `https://localhost:${fx.origin.port}/hello?user=${user}`;
      const res = await curl(['--proxy', fx.mitm.url, '--proxy-user', `${user}:${password}`, '--cacert', fx.mitm.caPath, url]);
      assert.equal(res.text, 'hello', `${user}: ${res.stderr}`);
      const flow = await fx.mitm.flows.waitFor((f) => f.url === url);
      assert.equal(flow.status, 200, user);
      assert.equal(flow.client.user, user);
    }
    const recorded = fx.mitm.proxy.flows.find((f) => f.request.url.endsWith('user=bob'));
    assert.equal(recorded?.client.user, 'bob');
  });

  it('strips Proxy-Authorization before forwarding and never records a password', async () => {
    const url = `http://localhost:${fx.plain.port}/echo?case=strip`;
    const res = await curl(['--proxy', fx.mitm.url, '--proxy-user', 'alice:wonderland', url]);
    assert.equal(res.status, 200, res.stderr);
    const echo = JSON.parse(res.text) as EchoBody;
    assert.equal(echo.url, '/echo?case=strip');
    assert.equal(echo.headers['proxy-authorization'], undefined);
    const flow = await fx.mitm.flows.waitFor((f) => f.url === url);
    assert.equal(flow.client.user, 'alice');
    // proxy.config too: a harness may log it; the engine still checks against the real password (above).
    const everything =
      JSON.stringify({ har: fx.mitm.proxy.har(), flows: fx.mitm.flows.items, config: fx.mitm.proxy.config }) +
      inspect(fx.mitm.proxy, { depth: 4 });
    for (const secret of ['wonderland', 'bcrypt-pass', 'sha-pass', Buffer.from('alice:wonderland').toString('base64')]) {
      assert.ok(!everything.includes(secret), `${secret} leaked into the records`);
    }
  });

  it('still serves the CA page on its own address without credentials', async () => {
    const res = await send({ host: '127.0.0.1', port: fx.mitm.port, path: '/cert/pem', agent: false });
    assert.equal(res.status, 200);
    assert.match(res.text, /BEGIN CERTIFICATE/);
  });
});
