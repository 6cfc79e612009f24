// Property tests of host and CONNECT-target parsing (issue #16, hostile input): normalizeHost and
// parseAuthority fail only with host_invalid, accept only names safe for minting, logs and file
// names, and format/parse round-trips.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { isMitmError } from '../../src/errors.js';
import { formatAuthority, ipAddressBytes, normalizeHost, parseAuthority } from '../../src/net/target.js';

const RUNS = { numRuns: 1000 };

// Pieces that mean something to the parsers, mixed with arbitrary text.
const piece = fc.oneof(
  fc.constantFrom('.', ':', '[', ']', '-', '_', '%', '/', '\\', ' ', '\0', '\r\n', '@', '::', '1', 'a', 'Z', '65535', '99999', 'xn--'),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const hostile = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9_-]{0,20}[a-z0-9])?$/);
const dnsName = fc.array(label, { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.'));
const ipv6 = fc.ipV6().filter((text) => isIP(text) === 6);
const host = fc.oneof(dnsName, fc.ipV4(), ipv6);

function hostInvalid(error: unknown): boolean {
  return isMitmError(error) && error.code === 'host_invalid';
}

test('normalizeHost: throws only host_invalid, and what it accepts is safe and canonical', () => {
  fc.assert(
    fc.property(hostile, (input) => {
      let out: string;
      try {
        out = normalizeHost(input);
      } catch (error) {
        assert.ok(hostInvalid(error), String(error));
        return;
      }
      assert.ok(out.length > 0 && out.length <= 253);
      assert.doesNotMatch(out, /[\s/\\\0%@[\]]/);
      assert.equal(out, out.toLowerCase());
      assert.equal(normalizeHost(out), out, 'idempotent');
    }),
    RUNS,
  );
});

test('parseAuthority: throws only host_invalid; an accepted target has a port in 1..65535', () => {
  fc.assert(
    fc.property(hostile, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), (input, defaultPort) => {
      try {
        const target = parseAuthority(input, defaultPort);
        assert.ok(Number.isInteger(target.port) && target.port >= 1 && target.port <= 65535);
      } catch (error) {
        assert.ok(hostInvalid(error), String(error));
      }
    }),
    RUNS,
  );
});

test('formatAuthority ∘ parseAuthority is the identity on valid targets', () => {
  fc.assert(
    fc.property(host, fc.integer({ min: 1, max: 65535 }), (name, port) => {
      const target = { host: normalizeHost(name), port };
      assert.deepEqual(parseAuthority(formatAuthority(target)), target);
      assert.deepEqual(parseAuthority(formatAuthority(target, 443), 443), target);
    }),
    RUNS,
  );
});

test('ipAddressBytes: 4 or 16 bytes that format back to the same address', () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), ipv6), (ip) => {
      const bytes = ipAddressBytes(normalizeHost(ip));
      if (isIP(ip) === 4) assert.equal([...bytes].join('.'), ip);
      else {
        assert.equal(bytes.length, 16);
        const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16)).join(':');
        assert.equal(new URL(`http://[${groups}]/`).hostname, new URL(`http://[${ip}]/`).hostname);
      }
    }),
    RUNS,
  );
});
