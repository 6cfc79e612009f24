import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { isMitmError } from '../../src/errors.js';
import { loadProxyAuth, parseBasic, parseHtpasswd } from '../../src/inbound/proxy-auth.js';

const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;

test('parseBasic reads user and password (colons allowed in the password) and rejects the rest', () => {
  assert.deepEqual(parseBasic(basic('alice:pa:ss')), { user: 'alice', password: 'pa:ss' });
  assert.deepEqual(parseBasic(`basic   ${Buffer.from('a:').toString('base64')}`), { user: 'a', password: '' });
  for (const bad of [undefined, '', 'Bearer abc', basic('nocolon'), basic(':nouser'), 'Basic !!!']) {
    assert.equal(parseBasic(bad), undefined, String(bad));
  }
});

test('htpasswd: bcrypt ($2y$, $2a$, $2b$), {SHA} and plain lines verify; comments and blanks are skipped', async () => {
  const hash = bcrypt.hashSync('b-pass', 4);
  const text = [
    '# a comment',
    `b2y:${hash.replace(/^\$2b\$/, '$2y$')}`,
    `b2a:${hash.replace(/^\$2b\$/, '$2a$')}`,
    `b2b:${hash}`,
    `sha:{SHA}${createHash('sha1').update('s-pass').digest('base64')}`,
    '',
    'plain:p-pass',
  ].join('\n');
  const users = parseHtpasswd(text, 'users.htpasswd');
  assert.deepEqual([...users.keys()], ['b2y', 'b2a', 'b2b', 'sha', 'plain']);
  for (const [user, good] of [
    ['b2y', 'b-pass'],
    ['b2a', 'b-pass'],
    ['b2b', 'b-pass'],
    ['sha', 's-pass'],
    ['plain', 'p-pass'],
  ] as const) {
    const verify = users.get(user);
    assert.equal(await verify?.(good), true, user);
    assert.equal(await verify?.(`${good}x`), false, user);
  }
});

test('htpasswd: unsupported hashes and malformed lines are refused with the file and line, never the secret', () => {
  for (const [line, message] of [
    ['md5:$apr1$salt$hash', /users:2: unsupported password hash for md5/],
    ['sha512:$6$salt$hash', /unsupported password hash/],
    ['nocolon', /users:2: expected USER:PASSWORD/],
    ['short:{SHA}AAAA', /not 20 bytes/],
  ] as const) {
    assert.throws(
      () => parseHtpasswd(`ok:fine\n${line}`, 'users'),
      (error: unknown) =>
        isMitmError(error) &&
        error.code === 'config_invalid' &&
        message.test(error.message) &&
        !error.message.includes(line.slice(line.indexOf(':') + 1) || line),
      line,
    );
  }
});

test('loadProxyAuth: flags and file combine, flags win for the same user; a missing file is config_invalid', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mitm-auth-'));
  try {
    const file = join(dir, 'htpasswd');
    await writeFile(file, 'alice:from-file\nbob:bob-pass\n');
    const auth = await loadProxyAuth({ proxyAuth: ['alice:from-flag'], proxyAuthFile: file });
    assert.ok(auth);
    assert.equal(await auth.checkHeader(basic('alice:from-flag')), 'alice');
    assert.equal(await auth.checkHeader(basic('alice:from-file')), undefined);
    assert.equal(await auth.checkHeader(basic('bob:bob-pass')), 'bob');
    assert.equal(await auth.checkHeader(basic('carol:bob-pass')), undefined);
    assert.equal(await auth.check('bob', 'bob-pass'), true);
    assert.equal(await auth.check('bob', 'nope'), false);
    assert.equal(await loadProxyAuth({ proxyAuth: [] }), undefined);
    await assert.rejects(
      loadProxyAuth({ proxyAuth: [], proxyAuthFile: join(dir, 'missing') }),
      (error: unknown) => isMitmError(error) && /--proxy-auth-file .*missing: cannot read the file \(ENOENT\)/.test(error.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
