// Issue #11: where `mitm start`/`run` and the library keep the root CA when none is named, and
// how `mitm start` stops on Ctrl-C: graceful on the first signal, at once on the second.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliProcess } from '../helpers/cli-process.js';
import { MitmAgent, send, sendViaProxy } from '../helpers/client.js';
import { listenLocal, type Listening } from '../helpers/listen.js';
import { CLI_MAIN, TSX_LOADER } from '../helpers/mitm-cli.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { run } from '../helpers/run.js';

const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
// Safety net only, never synchronisation: a CLI that never prints the awaited line fails the test.
const LONG = { timeout: 30_000 };

/** Resolves once a new connection to `port` is refused: the proxy stopped accepting. Rejects after `ms`. */
async function refused(port: number, ms = 10_000): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port, timeout: ms });
  try {
    const outcome = await Promise.race([
      once(socket, 'error').then(([error]: unknown[]) => (error as NodeJS.ErrnoException).code),
      once(socket, 'connect').then(() => 'connected'),
      once(socket, 'timeout').then(() => 'timed out'),
    ]);
    assert.equal(outcome, 'ECONNREFUSED', `a new connection to the closing proxy was not refused (${outcome})`);
  } finally {
    socket.destroy();
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('the CA folder does not depend on the working directory', { timeout: 90_000 }, () => {
  let scratch = '';
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'mitm-ca-home-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('mitm start without --ca uses $XDG_CONFIG_HOME/mitm from any folder, creating it once', LONG, async (t) => {
    const xdg = join(scratch, 'xdg');
    const home = join(scratch, 'home-xdg');
    const env = { XDG_CONFIG_HOME: xdg, HOME: home };
    const first = join(scratch, 'project-a');
    const second = join(scratch, 'project-b');
    await Promise.all([mkdir(first), mkdir(second), mkdir(home)]);
    const expected = join(xdg, 'mitm', 'ca.pem');

    const a = new CliProcess(['start', '--port', '0', '--quiet'], { cwd: first, env });
    t.after(() => a.kill());
    await a.listeningPort();
    const created = await a.waitForLine('stderr', /^CA: (.+) \((.+)\)$/);
    assert.deepEqual([created[1], created[2]], [expected, 'created now; trust it to see HTTPS traffic']);
    a.child.kill('SIGTERM');
    assert.equal((await a.exited).code, 0);

    // From another folder: the same CA, loaded, not a second root.
    const b = new CliProcess(['start', '--port', '0', '--quiet'], { cwd: second, env });
    t.after(() => b.kill());
    await b.listeningPort();
    const loaded = await b.waitForLine('stderr', /^CA: (.+) \((.+)\)$/);
    assert.deepEqual([loaded[1], loaded[2]], [expected, 'loaded']);
    b.child.kill('SIGTERM');
    assert.equal((await b.exited).code, 0);

    assert.ok(await exists(expected));
    assert.deepEqual(await readdir(first), [], 'nothing written into the working directory');
    assert.deepEqual(await readdir(second), []);
    assert.deepEqual(await readdir(home), [], 'XDG_CONFIG_HOME wins over ~/.mitm');
  });

  it('mitm run without --ca and without XDG_CONFIG_HOME uses ~/.mitm', LONG, async () => {
    const home = join(scratch, 'home');
    const cwd = join(scratch, 'project-run');
    await Promise.all([mkdir(home), mkdir(cwd)]);
    // An empty XDG_CONFIG_HOME counts as unset (the XDG rule), whatever the parent environment holds.
    const result = await run(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, 'run', '--quiet', '--', 'true'], {
      cwd,
      env: { HOME: home, XDG_CONFIG_HOME: '', DEBUG: '' },
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`^CA: ${join(home, '.mitm', 'ca.pem')} \\(created now; trust it to see HTTPS traffic\\)$`, 'm'));
    assert.ok(await exists(join(home, '.mitm', 'ca-key.pem')));
    assert.deepEqual(await readdir(cwd), []);
  });

  it('--ca ./certs still means the folder certs in the working directory', LONG, async () => {
    const cwd = join(scratch, 'project-relative');
    await mkdir(cwd);
    const result = await run(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, 'run', '--ca', './certs', '--quiet', '--', 'true'], {
      cwd,
      env: { XDG_CONFIG_HOME: join(scratch, 'unused-xdg'), DEBUG: '' },
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`^CA: ${join(cwd, 'certs', 'ca.pem')} \\(created now`, 'm'));
    assert.deepEqual(await readdir(cwd), ['certs']);
    assert.equal(await exists(join(scratch, 'unused-xdg')), false);
  });

  it('startProxy({ port: 0 }) without ca writes into the per-user folder, not the working directory', LONG, async () => {
    const cwd = join(scratch, 'harness');
    const xdg = join(scratch, 'harness-xdg');
    await mkdir(cwd);
    const script = join(scratch, 'harness.mts');
    await writeFile(
      script,
      [
        `import { startProxy } from ${JSON.stringify(INDEX)};`,
        'const proxy = await startProxy({ port: 0 });',
        'console.log(proxy.config.ca);',
        'await proxy.close();',
      ].join('\n'),
    );
    const result = await run(process.execPath, ['--import', TSX_LOADER, script], { cwd, env: { XDG_CONFIG_HOME: xdg }, timeoutMs: 30_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString().trim(), join(xdg, 'mitm'));
    assert.ok(await exists(join(xdg, 'mitm', 'ca.pem')));
    assert.deepEqual(await readdir(cwd), []);
  });
});

describe('mitm start on Ctrl-C', { timeout: 120_000 }, () => {
  let scratch = '';
  let origin: Origin;
  let pki: TestPki;
  let tlsOrigin: Origin;
  // An origin that takes requests and never answers them: what keeps a connection busy.
  const silent = createServer();
  let silentOrigin: Listening;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'mitm-sigint-'));
    origin = await startOrigin();
    pki = await createTestPki();
    tlsOrigin = await startOrigin({ cert: pki.origin.cert, key: pki.origin.key });
    silentOrigin = await listenLocal(silent);
  });
  after(async () => {
    await origin?.close();
    await tlsOrigin?.close();
    await pki?.cleanup();
    await silentOrigin?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /** A `mitm start` with its own CA folder, and its port. */
  async function startMitm(t: { after(fn: () => Promise<void>): void }, name: string): Promise<{ cli: CliProcess; port: number }> {
    const cli = new CliProcess(['start', '--port', '0', '--quiet', '--ca', join(scratch, name), '--upstream-ca', pki.ca.certPath]);
    t.after(() => cli.kill());
    return { cli, port: await cli.listeningPort() };
  }

  /** A connection busy with a request the origin never answers, once the origin has it. */
  async function heldRequest(port: number): Promise<Socket> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const arrived = once(silent, 'request');
    const authority = `127.0.0.1:${silentOrigin.port}`;
    socket.write(`GET http://${authority}/wait HTTP/1.1\r\nhost: ${authority}\r\n\r\n`);
    await arrived;
    return socket;
  }

  it('with no connection: says so and exits 0 by itself', LONG, async (t) => {
    const { cli } = await startMitm(t, 'none-ca');
    cli.child.kill('SIGINT');
    const { code, stderr } = await cli.exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /^closing \(0 connections\)…$/m);
  });

  it('idle keep-alive connections (plain and intercepted) do not hold it up', LONG, async (t) => {
    const { cli, port } = await startMitm(t, 'idle-ca');
    const agent = new Agent({ keepAlive: true });
    t.after(() => agent.destroy());
    const plain = await sendViaProxy(port, `${origin.url}/hello`, { agent });
    assert.equal(plain.text, 'hello');
    assert.equal(Object.values(agent.freeSockets).flat().length, 1, 'the client keeps its connection for the next request');
    // The same through an intercepted tunnel: a decrypted keep-alive connection, idle after its response.
    const mitmAgent = new MitmAgent(port, await readFile(join(scratch, 'idle-ca', 'ca.pem'), 'utf8'));
    t.after(() => mitmAgent.destroy());
    const intercepted = await send({ agent: mitmAgent, host: 'localhost', port: tlsOrigin.port, path: '/hello' });
    assert.equal(intercepted.text, 'hello');
    assert.equal(Object.values(mitmAgent.freeSockets).flat().length, 1);
    cli.child.kill('SIGINT');
    await cli.waitForLine('stderr', /^closing \(2 connections\)… press Ctrl-C again to exit at once$/);
    const { code, stderr } = await cli.exited;
    assert.equal(code, 0, stderr);
  });

  it('with a connection held open: waits for it, refusing new ones, and exits 0 when it ends', LONG, async (t) => {
    const { cli, port } = await startMitm(t, 'held-ca');
    const socket = await heldRequest(port);
    t.after(() => socket.destroy());
    cli.child.kill('SIGINT');
    await cli.waitForLine('stderr', /^closing \(1 connection\)… press Ctrl-C again to exit at once$/);
    await refused(port);
    assert.equal(cli.child.exitCode, null, 'still running while the connection is open');
    socket.destroy();
    const { code, stderr } = await cli.exited;
    assert.equal(code, 0, stderr);
  });

  it('with a connection held open: a second Ctrl-C exits at once', LONG, async (t) => {
    const { cli, port } = await startMitm(t, 'twice-ca');
    const socket = await heldRequest(port);
    t.after(() => socket.destroy());
    cli.child.kill('SIGINT');
    await cli.waitForLine('stderr', /^closing \(1 connection\)…/);
    await refused(port);
    cli.child.kill('SIGINT');
    const { code, signal, stderr } = await cli.exited;
    assert.equal(signal, null);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^mitm: SIGINT again: exiting without waiting for connections to close$/m);
  });
});
