import assert from 'node:assert/strict';
import type { ClientHttp2Session } from 'node:http2';
import { describe, it } from 'node:test';
import { customOrigin, e2eFixture, httpsOrigin } from '../helpers/fixture.js';
import { h2Request } from '../helpers/h2-client.js';
import { DATA, END_STREAM, HEADERS, tappedH2ViaProxy, type Frame } from '../helpers/h2-frames.js';
import { startH2Origin } from '../helpers/h2-origin.js';

/** The frames of `stream` that carry END_STREAM. */
function ends(frames: readonly Frame[], stream: number): Frame[] {
  return frames.filter((frame) => frame.stream === stream && (frame.flags & END_STREAM) !== 0);
}

// How the proxy ends an HTTP/2 client's stream. curl, multiplexing, resets with STREAM_CLOSED a
// stream whose declared body it holds before END_STREAM arrives, which a DATA frame of its own
// after the body made likely (docs/performance.md, "HTTP/2 streams end with their last DATA frame").
describe('proxy: where an HTTP/2 client stream ends', { timeout: 60_000 }, () => {
  const fx = e2eFixture({
    origins: {
      h1: httpsOrigin,
      h2: (pki) => startH2Origin(pki.origin, { allowHTTP1: false }),
      // An origin that sends no Date field: the proxy must not add one to what it passes on.
      noDate: customOrigin(
        (req, res) => {
          res.sendDate = false;
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
          res.end(req.method === 'HEAD' ? undefined : 'ok');
        },
        { secure: true },
      ),
    },
    proxies: { mitm: {} },
  });
  const sessions: ClientHttp2Session[] = [];
  fx.onClose(() => {
    for (const session of sessions) session.destroy();
  });
  const open = async (authority: string): Promise<{ session: ClientHttp2Session; frames: Frame[] }> => {
    const tapped = await tappedH2ViaProxy(fx.mitm.port, authority, fx.mitm.caPem);
    sessions.push(tapped.session);
    return tapped;
  };

  for (const origin of ['h1', 'h2'] as const) {
    it(`a sized body from an ${origin} origin ends with its last DATA frame, not an empty one after it`, async () => {
      const { session, frames } = await open(`localhost:${fx[origin].port}`);
      const streams = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const res = await h2Request(session, { ':method': 'GET', ':path': '/hello' });
          assert.equal(res.status, 200);
          assert.equal(res.text, 'hello');
          return res;
        }),
      );
      assert.equal(streams.length, 20);
      const ids = [...new Set(frames.filter((frame) => frame.type === HEADERS).map((frame) => frame.stream))];
      assert.equal(ids.length, 20, 'one response head per stream');
      for (const id of ids) {
        const last = ends(frames, id);
        assert.equal(last.length, 1, `stream ${id}: one frame with END_STREAM`);
        assert.equal(last[0]?.type, DATA, `stream ${id}: END_STREAM on a DATA frame`);
        assert.equal(last[0]?.length, 5, `stream ${id}: END_STREAM on the frame with the body, not an empty one after it`);
      }
    });
  }

  it('trailers from an HTTP/2 origin still end the stream, after the body, for a client that asked for them', async () => {
    const { session, frames } = await open(fx.h2.authority);
    const res = await h2Request(session, { ':method': 'GET', ':path': '/trailers', te: 'trailers' });
    assert.equal(res.text, 'with trailers');
    assert.equal(res.trailers['x-checksum'], 'abc');
    const id = frames.find((frame) => frame.type === HEADERS)?.stream ?? 0;
    assert.deepEqual(
      ends(frames, id).map((frame) => frame.type),
      [HEADERS],
      'END_STREAM on the trailer block',
    );
  });

  it('answers HEAD with its head alone, END_STREAM on the HEADERS frame, from an HTTP/1.1 origin', async () => {
    const { session, frames } = await open(`localhost:${fx.h1.port}`);
    const res = await h2Request(session, { ':method': 'HEAD', ':path': '/hello' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '5');
    assert.equal(res.body.length, 0);
    const id = frames.find((frame) => frame.type === HEADERS)?.stream ?? 0;
    assert.deepEqual(
      ends(frames, id).map((frame) => frame.type),
      [HEADERS],
    );
    const flow = await fx.mitm.flows.waitFor((record) => record.method === 'HEAD');
    assert.equal(flow.error, undefined);
  });

  it("passes an origin's answer on without a Date field when it had none, with a body or with its head alone", async () => {
    const { session } = await open(`localhost:${fx.noDate.port}`);
    const get = await h2Request(session, { ':method': 'GET', ':path': '/' });
    assert.equal(get.text, 'ok');
    assert.equal(get.headers.date, undefined);
    const head = await h2Request(session, { ':method': 'HEAD', ':path': '/' });
    assert.equal(head.headers['content-length'], '2');
    assert.equal(head.headers.date, undefined);
  });
});
