// Property tests of two line parsers read from users (issue #16): htpasswd files and --mode
// values fail only with config_invalid MitmErrors (host_invalid for a bad reverse-origin host),
// and what they accept is well-formed. parseBasic never throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isMitmError } from '../../src/errors.js';
import { describeMode, parseDnsUpstream, parseMode } from '../../src/config/modes.js';
import { parseBasic, parseHtpasswd } from '../../src/inbound/proxy-auth.js';

const RUNS = { numRuns: 1000 };

function ourError(error: unknown, codes: readonly string[] = ['config_invalid']): boolean {
  return isMitmError(error) && codes.includes(error.code);
}

const htpasswdPiece = fc.oneof(
  fc.constantFrom(':', '\n', '\r\n', '#', ' ', '{SHA}', '$2y$10$', '$apr1$', '$1$', 'alice', 'qUqP5cyxm6YcTAhz05Hph5gvu9M='),
  fc.string({ maxLength: 8 }),
);

test('parseHtpasswd: only config_invalid; every accepted user has a verifier', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(htpasswdPiece, { maxLength: 20 }), async (pieces) => {
      let users: Map<string, (password: string) => Promise<boolean>>;
      try {
        users = parseHtpasswd(pieces.join(''), 'fuzz.htpasswd');
      } catch (error) {
        assert.ok(ourError(error), String(error));
        return;
      }
      for (const [user, verify] of users) {
        assert.ok(user.length > 0 && !user.includes(':') && !user.includes('\n'));
        // Not the bcrypt verifiers: a wrong password for those costs a full hash each.
        if (user.length < 4) assert.equal(typeof (await verify('\u0000not-it')), 'boolean');
      }
    }),
    { numRuns: 300 },
  );
});

test('parseHtpasswd: user:password lines round-trip and verify', async () => {
  const field = fc
    .string({ minLength: 1, maxLength: 10 })
    .filter((s) => !/[:\r\n#]/.test(s) && s.trim() === s && !s.startsWith('{SHA}') && !s.startsWith('$'));
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(fc.tuple(field, field), { maxLength: 5, selector: ([user]) => user }), async (entries) => {
      const users = parseHtpasswd(entries.map(([u, p]) => `${u}:${p}`).join('\n'), 'x');
      assert.equal(users.size, entries.length);
      for (const [user, password] of entries) {
        assert.equal(await users.get(user)?.(password), true);
        assert.equal(await users.get(user)?.(`${password}x`), false);
      }
    }),
    { numRuns: 200 },
  );
});

test('parseBasic: never throws; a valid header round-trips', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (text) => {
      parseBasic(text);
      parseBasic(`Basic ${text}`);
    }),
    RUNS,
  );
  fc.assert(
    fc.property(
      fc.string({ minLength: 1 }).filter((s) => !s.includes(':')),
      fc.string(),
      (user, password) => {
        const header = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
        const got = parseBasic(header);
        // Lone surrogates do not survive UTF-8; everything else does.
        if (Buffer.from(user).toString() === user && Buffer.from(password).toString() === password)
          assert.deepEqual(got, { user, password });
      },
    ),
    RUNS,
  );
});

const modePiece = fc.oneof(
  fc.constantFrom(
    'regular',
    'transparent',
    'reverse',
    'dns',
    ':',
    '@',
    '[',
    ']',
    '::1',
    '127.0.0.1',
    'http://',
    'https://',
    'localhost',
    '8080',
    '0',
    '65536',
    '/',
    '?',
    '%',
    '.',
  ),
  fc.string({ maxLength: 5 }),
);

test('parseMode: only config_invalid / host_invalid; accepted modes describe themselves and have valid ports', () => {
  fc.assert(
    fc.property(fc.array(modePiece, { maxLength: 10 }), (pieces) => {
      const text = pieces.join('');
      try {
        const mode = parseMode(text);
        assert.ok(text.startsWith(mode.kind));
        describeMode(mode);
        const port = mode.listen?.port ?? 0;
        assert.ok(Number.isInteger(port) && port >= 0 && port <= 65535);
        if (mode.kind === 'reverse') assert.ok(mode.origin.port >= 1 && mode.origin.port <= 65535);
      } catch (error) {
        assert.ok(ourError(error, ['config_invalid', 'host_invalid']), String(error));
      }
    }),
    RUNS,
  );
});

test('parseMode: generated valid modes parse to what was written', () => {
  const port = fc.integer({ min: 0, max: 65535 });
  fc.assert(
    fc.property(
      fc.constantFrom('regular', 'transparent', 'dns'),
      fc.constantFrom('127.0.0.1', '[::1]', 'localhost'),
      port,
      (kind, host, p) => {
        const mode = parseMode(`${kind}@${host}:${p}`);
        assert.equal(mode.kind, kind);
        assert.equal(mode.listen?.port, p);
        assert.equal(mode.listen?.host, host.replace(/^\[|\]$/g, ''));
      },
    ),
    RUNS,
  );
});

test('parseDnsUpstream: only config_invalid', () => {
  fc.assert(
    fc.property(fc.array(modePiece, { maxLength: 6 }), (pieces) => {
      try {
        const { port } = parseDnsUpstream(pieces.join(''));
        assert.ok(port >= 1 && port <= 65535);
      } catch (error) {
        assert.ok(ourError(error), String(error));
      }
    }),
    RUNS,
  );
});
