// `--flow-detail 4`: WebSocket messages and server-sent events are printed as they pass, while the
// connection is still open, with direction, size and time; `--log-format json` prints them as objects.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpProxyAgent } from 'http-proxy-agent';
import { CliProcess } from '../helpers/cli-process.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { within } from '../helpers/deadline.js';
import { openClient } from '../helpers/ws-client.js';
import { startWsOrigin, type WsOrigin } from '../helpers/ws-origin.js';

describe('--flow-detail 4: messages as they pass', { timeout: 90_000 }, () => {
  let scratch = '';
  let wsOrigin: WsOrigin;
  let sseOrigin: CustomOrigin;
  // The event stream the origin holds open until the test has seen its first event printed.
  let openStream: ServerResponse | undefined;

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'mitm-live-messages-'));
    wsOrigin = await startWsOrigin();
    sseOrigin = await startCustomOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('event: greeting\ndata: first event\n\n');
      openStream = res;
    });
  });
  after(async () => {
    openStream?.end();
    await wsOrigin?.close();
    await sseOrigin?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const start = async (args: readonly string[]): Promise<{ cli: CliProcess; proxy: string }> => {
    const cli = new CliProcess(['start', '--port', '0', '--ca', path.join(scratch, 'ca'), '--flow-detail', '4', ...args]);
    const port = await cli.listeningPort(args.includes('json') ? 'stderr' : 'stdout');
    return { cli, proxy: `http://127.0.0.1:${port}` };
  };

  it('a WebSocket message line, both directions, appears before the WebSocket closes; the flow line after', async () => {
    const { cli, proxy } = await start([]);
    try {
      const client = await openClient(`${wsOrigin.url}/live`, [], { agent: new HttpProxyAgent(proxy) });
      const origin = await wsOrigin.nextSocket();
      client.ws.send('hello origin');
      await within(origin.received(1), 'the message at the origin');
      origin.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      await within(client.received(1), 'the binary message at the client');
      await cli.waitForLine('stdout', /^ws → ws:\/\/localhost:\d+\/live text 12 B \d\d:\d\d:\d\d\.\d{3}: hello origin$/);
      await cli.waitForLine('stdout', /^ws ← ws:\/\/localhost:\d+\/live binary 3 B \d\d:\d\d:\d\d\.\d{3}$/);
      assert.equal(
        cli.lines.stdout.some((line) => line.includes('/live 101')),
        false,
        'both message lines came while the WebSocket was open, before its flow line',
      );
      client.ws.close(1000, 'done');
      await within(client.closed, 'the close');
      await cli.waitForLine('stdout', /^GET http:\/\/localhost:\d+\/live 101 /);
    } finally {
      await cli.kill();
    }
  });

  it('a server-sent event is printed while its stream is still open; json carries the same as fields', async () => {
    const { cli, proxy } = await start(['--log-format', 'json']);
    try {
      const events = fetchThrough(proxy, `http://127.0.0.1:${sseOrigin.port}/events`);
      const { input } = await cli.waitForLine('stdout', /"event":"message"/);
      const message = JSON.parse(input) as Record<string, unknown>;
      assert.equal(message.kind, 'sse');
      assert.equal(message.direction, 'server-to-client');
      assert.equal(message.type, 'greeting');
      assert.equal(message.text, 'first event');
      assert.equal(message.size, 11);
      assert.equal(typeof message.time, 'number');
      assert.equal(
        cli.lines.stdout.some((line) => line.includes('"method"')),
        false,
        'the event was printed before its flow ended',
      );
      openStream?.end('data: last\n\n');
      const body = await within(events, 'the end of the event stream');
      assert.match(body, /data: last/);
      const flowLine = await cli.waitForLine('stdout', /"method":"GET","url":"http:\/\/127\.0\.0\.1:\d+\/events"/);
      const flow = JSON.parse(flowLine.input) as { status: number };
      assert.equal(flow.status, 200);
    } finally {
      await cli.kill();
    }
  });
});

/** GETs `url` through the proxy at `proxy` and resolves with the whole body. */
function fetchThrough(proxy: string, url: string): Promise<string> {
  const { hostname, port } = new URL(proxy);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: url, headers: { host: new URL(url).host }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
