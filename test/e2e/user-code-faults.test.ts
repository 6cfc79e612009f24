// Issue #11: user code the proxy calls (a 'flow' listener, a waitForFlow predicate) runs inside
// socket callbacks; a throw there used to be an uncaught exception that ended the process.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isMitmError, startProxy, type FlowRecord, type HookFault, type RunningProxy } from '../../src/index.js';
import { sendViaProxy } from '../helpers/client.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { run } from '../helpers/run.js';

const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

/** Resolves with the next event of `name`, or rejects after `ms` with a message saying what was missing. */
async function nextEvent<T>(proxy: RunningProxy, name: 'hook-fault' | 'flow', ms = 10_000): Promise<T> {
  const [event] = (await once(proxy, name, { signal: AbortSignal.timeout(ms) }).catch((error: unknown) => {
    throw new Error(`no '${name}' event within ${ms} ms`, { cause: error });
  })) as [T];
  return event;
}

describe('user code that throws does not take the proxy down', { timeout: 60_000 }, () => {
  let origin: Origin;
  let dir: string;
  let proxy: RunningProxy;

  before(async () => {
    origin = await startOrigin();
    dir = await mkdtemp(join(tmpdir(), 'mitm-faults-'));
    proxy = await startProxy({ port: 0, ca: join(dir, 'ca') });
  });

  after(async () => {
    await proxy?.close();
    await origin?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a throwing 'flow' listener is reported as a hook-fault; later listeners run and the proxy keeps serving", async () => {
    const thrower = (): void => {
      throw new Error('listener boom');
    };
    const seen: FlowRecord[] = [];
    const recorder = (record: FlowRecord): void => void seen.push(record);
    proxy.on('flow', thrower);
    proxy.on('flow', recorder);
    try {
      const fault = nextEvent<HookFault>(proxy, 'hook-fault');
      const first = await sendViaProxy(proxy.port, `${origin.url}/hello?n=1`);
      assert.equal(first.text, 'hello');
      assert.deepEqual(await fault, { hook: 'flow', phase: 'listener', message: 'listener boom' });
      assert.equal(seen.length, 1, 'the listener after the throwing one still ran');
      const second = await sendViaProxy(proxy.port, `${origin.url}/hello?n=2`);
      assert.equal(second.status, 200);
    } finally {
      proxy.off('flow', thrower);
      proxy.off('flow', recorder);
    }
  });

  it("an async 'flow' listener that rejects is reported too", async () => {
    const rejecter = async (): Promise<void> => {
      throw new Error('async boom');
    };
    proxy.on('flow', rejecter);
    try {
      const fault = nextEvent<HookFault>(proxy, 'hook-fault');
      await sendViaProxy(proxy.port, `${origin.url}/hello?n=3`);
      assert.deepEqual(await fault, { hook: 'flow', phase: 'listener', message: 'async boom' });
    } finally {
      proxy.off('flow', rejecter);
    }
  });

  it('a waitForFlow predicate that throws on a new flow rejects that wait with its error; the proxy keeps serving', async () => {
    const failure = new Error('predicate boom');
    const wait = proxy.waitForFlow((flow) => {
      if (flow.request.url.endsWith('n=4')) throw failure;
      return false;
    });
    // Handled from now on: the wait rejects while the request is still being answered.
    const rejected = assert.rejects(wait, (error) => error === failure);
    const response = await sendViaProxy(proxy.port, `${origin.url}/hello?n=4`);
    assert.equal(response.text, 'hello');
    await rejected;
    const next = proxy.waitForFlow((flow) => flow.request.url.endsWith('n=5'), { timeout: 10_000 });
    await sendViaProxy(proxy.port, `${origin.url}/hello?n=5`);
    assert.equal((await next).response?.status, 200);
  });

  it('a predicate that throws on a flow already recorded rejects, rather than throwing from waitForFlow', async () => {
    let result: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      result = proxy.waitForFlow(() => {
        throw new Error('early boom');
      });
    });
    await assert.rejects(result ?? Promise.resolve(), /early boom/);
  });
});

describe('waitForFlow timers', { timeout: 60_000 }, () => {
  it('a pending wait rejects when the proxy closes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mitm-faults-'));
    try {
      const proxy = await startProxy({ port: 0, ca: join(dir, 'ca') });
      const wait = proxy.waitForFlow(() => false, { timeout: 600_000 });
      await proxy.close();
      await assert.rejects(wait, (error) => isMitmError(error) && error.code === 'wait_timeout' && /closed/.test(error.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a pending wait does not keep a process alive once the proxy is closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mitm-faults-'));
    try {
      // A harness that forgot a wait: closing the proxy must let the process end, not hold it 10 minutes.
      const script = join(dir, 'forgotten-wait.mts');
      await writeFile(
        script,
        [
          `import { startProxy } from ${JSON.stringify(INDEX)};`,
          `const proxy = await startProxy({ port: 0, ca: ${JSON.stringify(join(dir, 'ca'))} });`,
          'proxy.waitForFlow(() => false, { timeout: 600_000 }).catch(() => undefined);',
          'await proxy.close();',
          "console.log('closed');",
        ].join('\n'),
      );
      const result = await run(process.execPath, ['--import', 'tsx', script], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        timeoutMs: 30_000,
      });
      assert.equal(result.timedOut, false, 'the process was still alive 30 s after closing the proxy');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString().trim(), 'closed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
