import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { within } from '../helpers/deadline.js';
import { TSX_LOADER } from '../helpers/mitm-cli.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { childEnv } from '../helpers/run.js';

const CHILD = fileURLToPath(new URL('../helpers/close-after-failure.ts', import.meta.url));
// Far below the 30 s upstream timeout a leaked handshake timer would hold the process for.
const EXIT_DEADLINE_MS = 5_000;

// Issue #11: a failed origin TLS handshake left its timeout armed, holding the process ~30 s past close().
describe('origin side: no timer outlives proxy.close()', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let untrusted: Origin;

  before(async () => {
    pki = await createTestPki();
    untrusted = await startOrigin(pki.selfSigned);
  });

  after(async () => {
    await untrusted?.close();
    await pki?.cleanup();
  });

  it('a process exits on its own once the proxy is closed after a failed origin handshake', async (t) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CHILD, String(untrusted.port)], {
      env: childEnv({ DEBUG: '' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('closed\n')) child.emit('proxy-closed');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = once(child, 'exit');
    try {
      await within(Promise.race([once(child, 'proxy-closed'), exited]), 'the child to close its proxy', 30_000);
      const closedAt = performance.now();
      await within(exited, () => `the child to exit after proxy.close() (${stderr.trim()})`, EXIT_DEADLINE_MS);
      const lingered = Math.round(performance.now() - closedAt);
      assert.equal(child.exitCode, 0, stderr);
      assert.match(stdout, /^HTTP\/1\.1 502 /m, stdout);
      assert.match(stdout, /certificate verification failed for localhost:\d+/);
      t.diagnostic(`exited ${lingered} ms after proxy.close()`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
