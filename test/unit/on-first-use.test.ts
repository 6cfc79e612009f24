import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { within } from '../helpers/deadline.js';
import { loadOnFirstUse } from '../../src/proxy/on-first-use.js';

/** A load the test finishes by hand, so calls can be made while it is under way. */
function controlledLoad(): {
  load: () => Promise<(stream: PassThrough, tag: string) => void>;
  finish(handler: (stream: PassThrough, tag: string) => void): void;
  fail(error: Error): void;
  readonly loads: number;
} {
  let loads = 0;
  let resolve: (handler: (stream: PassThrough, tag: string) => void) => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const loading = new Promise<(stream: PassThrough, tag: string) => void>((done, failed) => {
    resolve = done;
    reject = failed;
  });
  return {
    load: async () => {
      loads += 1;
      return loading;
    },
    finish: (handler) => resolve(handler),
    fail: (error) => reject(error),
    get loads() {
      return loads;
    },
  };
}

describe('loadOnFirstUse', () => {
  it('loads once; calls made while it loads run in order once it has, later ones at once', async () => {
    const control = controlledLoad();
    const seen: string[] = [];
    const handler = loadOnFirstUse(control.load, (stream: PassThrough) => stream);
    handler(new PassThrough(), 'a');
    handler.preload();
    handler(new PassThrough(), 'b');
    assert.equal(seen.length, 0);
    const allSeen = new Promise<void>((done) => {
      control.finish((_stream, tag) => {
        seen.push(tag);
        if (seen.length === 2) done();
      });
    });
    await within(allSeen, 'the two waiting calls');
    assert.deepEqual(seen, ['a', 'b']);
    handler(new PassThrough(), 'c');
    assert.deepEqual(seen, ['a', 'b', 'c']);
    assert.equal(control.loads, 1);
  });

  it("a stream's error while it waits does not go unheard, and the handler still gets it", async () => {
    const control = controlledLoad();
    const handler = loadOnFirstUse(control.load, (stream: PassThrough) => stream);
    const stream = new PassThrough();
    handler(stream, 'a');
    // Without a listener this would be an uncaught exception.
    stream.destroy(new Error('reset while loading'));
    await within(new Promise((closed) => stream.once('close', closed)), 'the stream to close');
    const got = new Promise<PassThrough>((done) => control.finish((given) => done(given)));
    assert.equal(await within(got, 'the handler to be called'), stream);
    assert.equal(stream.listenerCount('error'), 0);
  });

  it('a failed load destroys each waiting stream with the error', async () => {
    const control = controlledLoad();
    const handler = loadOnFirstUse(control.load, (stream: PassThrough) => stream);
    const streams = [new PassThrough(), new PassThrough()];
    const errors = streams.map(async (stream) => (await once(stream, 'error'))[0] as Error);
    for (const stream of streams) handler(stream, 'x');
    control.fail(new Error('cannot load the chunk'));
    for (const error of await within(Promise.all(errors), 'both streams to fail')) {
      assert.equal(error.message, 'cannot load the chunk');
    }
  });
});
