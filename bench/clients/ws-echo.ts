// WebSocket message rate: one connection (through the proxy's CONNECT tunnel, or straight to the
// origin), `--messages` binary messages of `--size` bytes with at most `--window` unanswered, each
// echoed by the origin and checked byte for byte. Started by bench/lib/workloads.ts as
//   node …/ws-echo.js --url wss://localhost:PORT/ws --ca FILE --messages N [--proxy-port N]
// and prints {"messages":N,"ms":T} or {"error":"…"}. Bounded by --deadline-ms (default 120 s).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { tlsThroughProxy } from './tunnel.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    ca: { type: 'string' },
    messages: { type: 'string' },
    'proxy-port': { type: 'string' },
    size: { type: 'string', default: '64' },
    window: { type: 'string', default: '64' },
    'deadline-ms': { type: 'string', default: '120000' },
  },
});
const url = new URL(values.url ?? '');
const ca = readFileSync(values.ca ?? '');
const total = Number(values.messages);
const size = Number(values.size);
const window = Number(values.window);

const done = (result: object): never => {
  console.log(JSON.stringify(result));
  process.exit(0);
};
setTimeout(() => done({ error: `not done within ${values['deadline-ms']} ms` }), Number(values['deadline-ms'])).unref();

try {
  const tunnel = values['proxy-port'] ? await tlsThroughProxy(Number(values['proxy-port']), url.host, ca) : undefined;
  const ws = new WebSocket(url, { ca, perMessageDeflate: false, ...(tunnel ? { createConnection: () => tunnel } : {}) });
  ws.on('error', (error) => done({ error: error.message }));
  await new Promise((resolve) => ws.once('open', resolve));
  // Message i carries i in its first four bytes, so every echo is checked for order and content.
  const message = (i: number): Buffer => {
    const bytes = Buffer.alloc(size, i & 0xff);
    bytes.writeUInt32BE(i, 0);
    return bytes;
  };
  let sent = 0;
  let echoed = 0;
  const start = performance.now();
  const fill = (): void => {
    while (sent < total && sent - echoed < window) ws.send(message(sent++));
  };
  ws.on('message', (data: Buffer) => {
    if (!data.equals(message(echoed))) done({ error: `echo ${echoed} differs from what was sent` });
    echoed += 1;
    if (echoed === total) {
      const ms = performance.now() - start;
      ws.close();
      done({ messages: total, ms });
    }
    fill();
  });
  fill();
} catch (error) {
  done({ error: error instanceof Error ? error.message : String(error) });
}
