// Property tests of the event-stream parser (issue #16): serialized events parse back the same
// however the bytes are split (UTF-8 split mid-character, CRLF split mid-pair), and no input is lost
// or throws: the blocks' raw text plus what end() returns is exactly the input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EventStreamParser, sameEvent, serializeEvent, type ServerSentEvent, type StreamBlock } from '../../src/flow/sse.js';

const RUNS = { numRuns: 500 };

const lineText = fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, ''));
const event: fc.Arbitrary<ServerSentEvent> = fc.record(
  {
    event: lineText.filter((s) => s !== '').map((s) => s.replace(/^ /, '')),
    data: fc.array(lineText, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n')),
    id: lineText.map((s) => s.replace(/^ /, '')),
    retry: fc.nat(),
  },
  { requiredKeys: ['data'] },
);

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

function feed(bytes: Buffer, cuts: number[]): { blocks: StreamBlock[]; rest: string } {
  const parser = new EventStreamParser();
  const blocks: StreamBlock[] = [];
  for (const part of split(bytes, cuts)) blocks.push(...parser.push(part));
  return { blocks, rest: parser.end() };
}

test('serializeEvent → parser round trip, whatever the chunking', () => {
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 6 }), (events, cuts) => {
      const { blocks, rest } = feed(Buffer.from(events.map(serializeEvent).join('')), cuts);
      assert.equal(rest, '');
      assert.equal(blocks.length, events.length);
      blocks.forEach((block, i) => {
        const want = events[i];
        assert.ok(want && block.kind === 'event');
        assert.ok(
          sameEvent(block.event, { event: undefined, id: undefined, retry: undefined, ...want }),
          JSON.stringify([block.event, want]),
        );
      });
    }),
    RUNS,
  );
});

test('arbitrary text with any line ends: never throws, and no byte is lost', () => {
  const piece = fc.oneof(
    fc.constantFrom('\r', '\n', '\r\n', ':', 'data:', 'event: x', 'retry: 5', 'id', ' '),
    fc.string({ unit: 'grapheme', maxLength: 5 }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 6 }), (pieces, cuts) => {
      const text = pieces.join('');
      const { blocks, rest } = feed(Buffer.from(text), cuts);
      assert.equal(blocks.map((b) => b.raw).join('') + rest, text);
    }),
    RUNS,
  );
});

test('arbitrary bytes: never throws', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (chunks) => {
      const parser = new EventStreamParser();
      for (const chunk of chunks) parser.push(Buffer.from(chunk));
      parser.end();
    }),
    RUNS,
  );
});
