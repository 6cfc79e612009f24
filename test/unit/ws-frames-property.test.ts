// Property tests of the WebSocket frame parser (issue #16): frames encoded by encodeFrame parse
// back identically however the bytes are split, and arbitrary bytes raise only FrameError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeFrame, FrameError, FrameParser, Opcode, type Frame } from '../../src/flow/ws-frames.js';

const RUNS = { numRuns: 500 };
const MAX = 1024;

const dataFrame = fc.record({
  fin: fc.boolean(),
  rsv1: fc.boolean(),
  opcode: fc.constantFrom(Opcode.continuation, Opcode.text, Opcode.binary),
  payload: fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a)),
  mask: fc.boolean(),
});
const controlFrame = fc.record({
  fin: fc.constant(true),
  rsv1: fc.constant(false),
  opcode: fc.constantFrom(Opcode.close, Opcode.ping, Opcode.pong),
  payload: fc.uint8Array({ maxLength: 125 }).map((a) => Buffer.from(a)),
  mask: fc.boolean(),
});
const frame = fc.oneof(dataFrame, controlFrame);

/** Splits `bytes` at the given cut points (taken modulo its length). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const at of [...points, bytes.length]) {
    parts.push(bytes.subarray(from, at));
    from = at;
  }
  return parts;
}

test('encode → parse round trip, whatever the chunking', () => {
  fc.assert(
    fc.property(fc.array(frame, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (inits, cuts) => {
      const wire = inits.map((init) => encodeFrame(init));
      const parser = new FrameParser(MAX);
      const frames: Frame[] = [];
      for (const part of split(Buffer.concat(wire), cuts)) frames.push(...parser.push(part));
      assert.equal(frames.length, inits.length);
      frames.forEach((got, i) => {
        const want = inits[i];
        assert.ok(want);
        assert.equal(got.fin, want.fin);
        assert.equal(got.rsv1, want.rsv1);
        assert.equal(got.opcode, want.opcode);
        assert.deepEqual(got.payload, want.payload);
        assert.deepEqual(got.raw, wire[i]);
      });
      assert.equal(parser.rest().length, 0);
    }),
    RUNS,
  );
});

test('arbitrary bytes: only FrameError; no frame longer than the limit is buffered', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), fc.integer({ min: 0, max: 300 }), (chunks, max) => {
      const parser = new FrameParser(max);
      try {
        for (const chunk of chunks) {
          for (const got of parser.push(Buffer.from(chunk))) assert.ok(got.payload.length <= max);
          if (parser.oversized) break;
        }
      } catch (error) {
        assert.ok(error instanceof FrameError, String(error));
      }
    }),
    RUNS,
  );
});

test('a frame over the limit: oversized, and rest() hands back every byte from its start', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 400 }), fc.boolean(), (max, extra, mask) => {
      const small = encodeFrame({ fin: true, opcode: Opcode.text, payload: Buffer.alloc(Math.min(max, 10)), mask });
      const big = encodeFrame({ fin: true, opcode: Opcode.binary, payload: Buffer.alloc(max + extra, 1), mask });
      const parser = new FrameParser(max);
      assert.equal(parser.push(Buffer.concat([small, big])).length, 1);
      assert.ok(parser.oversized);
      assert.deepEqual(parser.rest(), big);
    }),
    RUNS,
  );
});
