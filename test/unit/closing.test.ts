import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { closingController } from '../../src/net/closing.js';

/** The MaxListenersExceededWarning names that `listen` triggers, collected until the next turn. */
async function warningsWhile(listen: () => void): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (warning: Error): void => {
    if (warning.name === 'MaxListenersExceededWarning') seen.push(warning.message);
  };
  process.on('warning', onWarning);
  try {
    listen();
    // Node emits the warning on process.nextTick: the next turn of the loop comes after it.
    await nextTurn();
  } finally {
    process.off('warning', onWarning);
  }
  return seen;
}

describe('closingController', () => {
  it('takes a listener per concurrent dial, 50 of them, without the listener-limit warning a plain controller gives', async () => {
    const plain = new AbortController();
    const shared = closingController();
    const add = (signal: AbortSignal): void => {
      for (let i = 0; i < 50; i++) signal.addEventListener('abort', () => {});
    };
    assert.equal((await warningsWhile(() => add(plain.signal))).length, 1, 'a plain AbortController warns past 10 listeners');
    assert.deepEqual(await warningsWhile(() => add(shared.signal)), []);
    let heard = 0;
    shared.signal.addEventListener('abort', () => heard++);
    shared.abort();
    assert.equal(heard, 1);
  });
});
