// Property tests of the ClientHello/SNI reader (issue #16): it never throws on arbitrary bytes,
// finds the name in every hello we build (whole, or as a prefix saying 'incomplete'), and a
// mutated real ClientHello gives a string, 'incomplete' or undefined, nothing else.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { parseClientHello } from '../../src/tls/client-hello.js';

/** The SNI of a ClientHello, 'incomplete', or undefined: what the parser says of its server name. */
function parseClientHelloSni(bytes: Buffer): string | 'incomplete' | undefined {
  const hello = parseClientHello(bytes);
  return typeof hello === 'object' ? hello.servername : hello;
}
import { captureClientHello } from '../helpers/client-hello.js';

const RUNS = { numRuns: 1000 };

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function withLength16(body: Buffer): Buffer {
  return Buffer.concat([u16(body.length), body]);
}

/** A minimal TLS 1.2-style ClientHello record with `extensions` (type, data) in order. */
function buildHello(extensions: Array<[number, Buffer]>, sessionId: Buffer): Buffer {
  const ext = Buffer.concat(extensions.map(([type, data]) => Buffer.concat([u16(type), withLength16(data)])));
  const body = Buffer.concat([
    Buffer.of(3, 3),
    Buffer.alloc(32, 7),
    Buffer.of(sessionId.length),
    sessionId,
    withLength16(Buffer.of(0x13, 0x01)),
    Buffer.of(1, 0),
    withLength16(ext),
  ]);
  const handshake = Buffer.concat([Buffer.of(1, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff), body]);
  return Buffer.concat([Buffer.of(0x16, 3, 1), withLength16(handshake)]);
}

function sniExtension(name: string): [number, Buffer] {
  const bytes = Buffer.from(name, 'latin1');
  return [0, withLength16(Buffer.concat([Buffer.of(0), withLength16(bytes)]))];
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const otherExtension = fc.tuple(
  fc.integer({ min: 1, max: 0xffff }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
);

function isAllowedResult(result: unknown): boolean {
  return result === undefined || typeof result === 'string';
}

let realHello: Buffer;
before(async () => {
  realHello = await captureClientHello('fuzz.example.test');
});

test('arbitrary bytes: never throws; a string, "incomplete" or undefined', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      assert.ok(isAllowedResult(parseClientHelloSni(Buffer.from(bytes))));
    }),
    RUNS,
  );
});

test('bytes behind a handshake record header: never throws', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 300 }), (length, body) => {
      const bytes = Buffer.concat([Buffer.of(0x16, 3, 1), u16(length), Buffer.of(1), Buffer.from(body)]);
      assert.ok(isAllowedResult(parseClientHelloSni(bytes)));
    }),
    RUNS,
  );
});

test('a built ClientHello: the SNI comes back, and every proper prefix is "incomplete"', () => {
  fc.assert(
    fc.property(
      name,
      fc.array(otherExtension, { maxLength: 4 }),
      fc.array(otherExtension, { maxLength: 2 }),
      fc.uint8Array({ maxLength: 32 }),
      fc.nat(),
      (sni, beforeSni, afterSni, sessionId, cut) => {
        const hello = buildHello([...beforeSni.filter(([t]) => t !== 0), sniExtension(sni), ...afterSni], Buffer.from(sessionId));
        assert.equal(parseClientHelloSni(hello), sni);
        assert.equal(parseClientHelloSni(hello.subarray(0, cut % hello.length)), 'incomplete');
      },
    ),
    RUNS,
  );
});

test('a real ClientHello with bytes flipped, cut or inserted: never throws', () => {
  assert.equal(parseClientHelloSni(realHello), 'fuzz.example.test');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), { maxLength: 6 }),
      (edits) => {
        let bytes = Buffer.from(realHello);
        for (const [at, value, kind] of edits) {
          const i = at % Math.max(bytes.length, 1);
          if (kind === 'flip') bytes[i] = value;
          else if (kind === 'cut') bytes = bytes.subarray(0, i);
          else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.of(value), bytes.subarray(i)]);
        }
        assert.ok(isAllowedResult(parseClientHelloSni(bytes)));
      },
    ),
    RUNS,
  );
});
