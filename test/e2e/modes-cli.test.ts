// `mitm start --mode …` from the command line: one ready line per listener, usage errors naming the
// bad --mode, and a listener that cannot bind leaving nothing listening.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMitmError, startProxy } from '../../src/index.js';
import { send } from '../helpers/client.js';
import { CliProcess } from '../helpers/cli-process.js';
import { within } from '../helpers/deadline.js';

/** True when something accepts TCP connections on 127.0.0.1:port. */
async function accepting(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/**
 * A port held by a server of the test (`taken`) and a free one known in advance (`free`), so a
 * test can check that a listener bound there was released again.
 */
async function portPair(): Promise<{ busy: Server; taken: number; free: number }> {
  const busy = createServer().listen(0, '127.0.0.1');
  await once(busy, 'listening');
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const free = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return { busy, taken: (busy.address() as AddressInfo).port, free };
}

describe('mitm start --mode', { timeout: 90_000 }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mitm-modes-cli-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one line per listener, each with its mode', async () => {
    const cli = new CliProcess([
      'start',
      '--ca',
      join(dir, 'ca'),
      '--mode',
      'regular@127.0.0.1:0',
      '--mode',
      'transparent@127.0.0.1:0',
      '--mode',
      'reverse:http://127.0.0.1:9@127.0.0.1:0',
      '--mode',
      'dns@127.0.0.1:0',
      '--dns-upstream',
      '127.0.0.1:9',
    ]);
    try {
      const regular = await cli.waitForLine('stdout', /^listening on http:\/\/127\.0\.0\.1:(\d+) \(regular\)$/);
      const transparent = await cli.waitForLine('stdout', /^listening on 127\.0\.0\.1:(\d+) \(transparent\)$/);
      await cli.waitForLine('stdout', /^listening on 127\.0\.0\.1:(\d+) \(reverse:http:\/\/127\.0\.0\.1:9\)$/);
      await cli.waitForLine('stdout', /^dns on udp:\/\/127\.0\.0\.1:(\d+)$/);
      assert.ok(await accepting(Number(regular[1])));
      assert.ok(await accepting(Number(transparent[1])));
    } finally {
      await cli.kill();
    }
  });

  it('the JSON log and the HAR say which listener each flow came through', async () => {
    const origin = createHttpServer((_req, res) => res.end('from origin'));
    origin.listen(0, '127.0.0.1');
    await once(origin, 'listening');
    const originPort = (origin.address() as AddressInfo).port;
    const harFile = join(dir, 'modes.har');
    const cli = new CliProcess([
      'start',
      '--ca',
      join(dir, 'ca'),
      '--mode',
      'regular@127.0.0.1:0',
      '--mode',
      'transparent@127.0.0.1:0',
      '--log-format',
      'json',
      '--har',
      harFile,
    ]);
    try {
      // In json mode stdout carries flows only: the ready lines are on stderr.
      const transparent = await cli.waitForLine('stderr', /^listening on 127\.0\.0\.1:(\d+) \(transparent\)$/);
      const answer = await send({
        host: '127.0.0.1',
        port: Number(transparent[1]),
        path: '/via-transparent',
        headers: { host: `127.0.0.1:${originPort}` },
        agent: false,
      });
      assert.equal(answer.text, 'from origin');
      const { input } = await cli.waitForLine('stdout', /via-transparent/);
      const logged = JSON.parse(input) as { url: string; mode: string };
      assert.equal(logged.mode, 'transparent');
      cli.child.kill('SIGINT');
      const exit = await within(cli.exited, 'mitm to exit on SIGINT');
      assert.equal(exit.code, 0, exit.stderr);
      const har = JSON.parse(await readFile(harFile, 'utf8')) as { log: { entries: Array<{ request: { url: string }; _mode: string }> } };
      const entry = har.log.entries.find((e) => e.request.url.endsWith('/via-transparent'));
      assert.equal(entry?._mode, 'transparent');
    } finally {
      await cli.kill();
      origin.close();
    }
  });

  it('a malformed --mode is a usage error (exit 2) naming the flag and the bad part', async () => {
    const cli = new CliProcess(['start', '--ca', join(dir, 'ca'), '--mode', 'transparent@127.0.0.1:notaport']);
    const exit = await within(cli.exited, 'mitm to exit');
    assert.equal(exit.code, 2, exit.stderr);
    assert.match(exit.stderr, /--mode: invalid mode "transparent@127\.0\.0\.1:notaport": "notaport" is not a port/);
  });

  it('a port in use is a runtime error (exit 1) naming the address, with nothing left listening', async () => {
    const { busy, taken, free } = await portPair();
    try {
      const cli = new CliProcess([
        'start',
        '--ca',
        join(dir, 'ca'),
        '--mode',
        `regular@127.0.0.1:${free}`,
        '--mode',
        `transparent@127.0.0.1:${taken}`,
      ]);
      const exit = await within(cli.exited, 'mitm to exit');
      assert.equal(exit.code, 1, exit.stderr);
      assert.match(exit.stderr, new RegExp(`port ${taken} is already in use on 127\\.0\\.0\\.1`));
    } finally {
      busy.close();
    }
  });

  it('startProxy: when a later listener cannot bind, the ones bound before it are closed again', async () => {
    const { busy, taken, free } = await portPair();
    try {
      await assert.rejects(
        startProxy({ ca: join(dir, 'ca'), mode: [`regular@127.0.0.1:${free}`, `transparent@127.0.0.1:${taken}`] }),
        (error: unknown) => isMitmError(error) && error.code === 'listen_failed' && error.message.includes(`port ${taken}`),
      );
      // In this process, so only the proxy's own close can have released it.
      assert.equal(await accepting(free), false, 'the regular listener bound first is closed again');
    } finally {
      busy.close();
    }
  });
});
