import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { MessageInflater, readExtensions } from '../../src/flow/ws-deflate.js';
import { closeFrame, encodeFrame, FrameError, FrameParser, Opcode } from '../../src/flow/ws-frames.js';
import { WebSocketLog } from '../../src/flow/ws-message.js';

describe('WebSocket frames', () => {
  it('round-trips frames of every length class, masked and not, fed one byte at a time', () => {
    for (const length of [0, 125, 126, 65535, 65536, 200_000]) {
      for (const mask of [false, true]) {
        const payload = randomBytes(length);
        const wire = encodeFrame({ fin: length !== 126, rsv1: length === 0, opcode: Opcode.binary, payload, mask });
        const parser = new FrameParser(1 << 20);
        const frames = [];
        // Byte by byte for the small ones; the large ones in uneven slices.
        const step = length > 1000 ? 7919 : 1;
        for (let i = 0; i < wire.length; i += step) frames.push(...parser.push(wire.subarray(i, i + step)));
        assert.equal(frames.length, 1, `length ${length}`);
        const [frame] = frames;
        assert.ok(frame);
        assert.equal(frame.payload.equals(payload), true);
        assert.equal(frame.raw.equals(wire), true);
        assert.equal(frame.fin, length !== 126);
        assert.equal(frame.rsv1, length === 0);
        assert.equal(frame.opcode, Opcode.binary);
        assert.equal((wire[1] as number) >> 7, mask ? 1 : 0);
      }
    }
  });

  it('splits several frames out of one chunk and keeps a partial one for later', () => {
    const a = encodeFrame({ fin: true, opcode: Opcode.text, payload: Buffer.from('one'), mask: true });
    const b = closeFrame(4001, 'bye', false);
    const c = encodeFrame({ fin: true, opcode: Opcode.ping, payload: Buffer.from('p'), mask: false });
    const parser = new FrameParser(100);
    const all = Buffer.concat([a, b, c]);
    const first = parser.push(all.subarray(0, all.length - 1));
    assert.deepEqual(
      first.map((f) => f.opcode),
      [Opcode.text, Opcode.close],
    );
    assert.equal(first[1]?.payload.readUInt16BE(0), 4001);
    assert.equal(first[1]?.payload.subarray(2).toString(), 'bye');
    assert.deepEqual(
      parser.push(all.subarray(all.length - 1)).map((f) => f.payload.toString()),
      ['p'],
    );
  });

  it('stops at a frame larger than the limit and hands back its bytes untouched', () => {
    const small = encodeFrame({ fin: true, opcode: Opcode.text, payload: Buffer.from('ok'), mask: false });
    const big = encodeFrame({ fin: true, opcode: Opcode.binary, payload: randomBytes(5000), mask: true });
    const parser = new FrameParser(4096);
    const frames = parser.push(Buffer.concat([small, big.subarray(0, 100)]));
    assert.deepEqual(
      frames.map((f) => f.payload.toString()),
      ['ok'],
    );
    assert.equal(parser.oversized, true);
    assert.equal(parser.rest().equals(big.subarray(0, 100)), true);
  });

  it('rejects a fragmented or oversized control frame', () => {
    const fragmentedPing = Buffer.from([0x09, 0x00]);
    assert.throws(() => new FrameParser(100).push(fragmentedPing), FrameError);
    const longClose = Buffer.concat([Buffer.from([0x88, 126, 0, 200]), Buffer.alloc(200)]);
    assert.throws(() => new FrameParser(1000).push(longClose), FrameError);
  });
});

describe('permessage-deflate', () => {
  it("reads the origin's answer: none, deflate with its context flags, or an extension it cannot decode", () => {
    assert.deepEqual(readExtensions(undefined), { kind: 'none' });
    assert.deepEqual(readExtensions('permessage-deflate; server_max_window_bits=10; client_no_context_takeover'), {
      kind: 'deflate',
      agreement: { clientNoContextTakeover: true, serverNoContextTakeover: false },
    });
    assert.deepEqual(readExtensions('x-webkit-deflate-frame'), { kind: 'unknown' });
    assert.deepEqual(readExtensions('permessage-deflate, x-other'), { kind: 'unknown' });
  });

  it('inflates messages that refer back to earlier ones (context takeover), frame by frame', async () => {
    const deflater = zlib.createDeflateRaw({ windowBits: 15 });
    const chunks: Buffer[] = [];
    deflater.on('data', (chunk: Buffer) => chunks.push(chunk));
    const compress = (text: string): Promise<Buffer> =>
      new Promise((resolve) => {
        deflater.write(text);
        deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          const out = Buffer.concat(chunks.splice(0));
          // Senders strip the trailing empty block (RFC 7692 §7.2.1).
          resolve(out.subarray(0, out.length - 4));
        });
      });
    const inflater = new MessageInflater();
    const first = await compress('hello hello hello world');
    assert.equal((await inflater.inflate(first, true)).toString(), 'hello hello hello world');
    const second = await compress('hello world, hello hello hello world');
    const half = Math.floor(second.length / 2);
    const start = await inflater.inflate(second.subarray(0, half), false);
    const end = await inflater.inflate(second.subarray(half), true);
    assert.equal(Buffer.concat([start, end]).toString(), 'hello world, hello hello hello world');
    await assert.rejects(inflater.inflate(Buffer.from([0xff, 0xff, 0xff]), true));
    inflater.close();
    deflater.close();
  });
});

describe('WebSocketLog', () => {
  it('keeps messages up to the byte limit, then cuts one and only counts the rest', () => {
    const log = new WebSocketLog(10);
    log.add('client-to-server', 'text', Buffer.from('123456'), 6);
    log.add('server-to-client', 'binary', Buffer.from('abcdef'), 6);
    log.add('client-to-server', 'text', Buffer.from('more'), 4);
    assert.deepEqual(
      log.messages.map((m) => [m.direction, m.type, m.data.toString(), m.size, m.truncated]),
      [
        ['client-to-server', 'text', '123456', 6, false],
        ['server-to-client', 'binary', 'abcd', 6, true],
      ],
    );
    assert.equal(log.room, 0);
    assert.equal(log.omitted, 1);
  });
});
