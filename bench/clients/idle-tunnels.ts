// Holds many idle intercepted tunnels open through a proxy: for each, CONNECT, then a TLS
// handshake with the proxy's minted certificate, then nothing. Started by bench/run.ts as
//   node …/idle-tunnels.js --proxy-port N --target HOST:PORT --count N --ca FILE
// prints {"open":N,"failed":N,"error"?:…} once all are settled, then on the stdin line "close"
// destroys them and prints {"closed":N}. Bounded: it gives up after --deadline-ms (default 120 s).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import { tlsThroughProxy } from './tunnel.js';

const { values } = parseArgs({
  options: {
    'proxy-port': { type: 'string' },
    target: { type: 'string' },
    count: { type: 'string' },
    ca: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    'deadline-ms': { type: 'string', default: '120000' },
  },
});
const proxyPort = Number(values['proxy-port']);
const target = values.target ?? '';
const count = Number(values.count);
const ca = readFileSync(values.ca ?? '');
const deadline = Date.now() + Number(values['deadline-ms']);

const open: TLSSocket[] = [];
let failed = 0;
let firstError: string | undefined;

async function openOne(): Promise<void> {
  try {
    const tls = await tlsThroughProxy(proxyPort, target, ca);
    tls.on('error', () => undefined);
    open.push(tls);
  } catch (error) {
    failed += 1;
    firstError ??= error instanceof Error ? error.message : String(error);
  }
}

let next = 0;
const worker = async (): Promise<void> => {
  while (next < count && Date.now() < deadline) {
    next += 1;
    await openOne();
  }
};
await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
const missing = count - open.length - failed;
console.log(JSON.stringify({ open: open.length, failed: failed + missing, ...(firstError ? { error: firstError } : {}) }));

const stdin = createInterface({ input: process.stdin });
const bail = setTimeout(() => process.exit(2), Math.max(0, deadline - Date.now()) + 60_000);
stdin.on('line', (line) => {
  if (line.trim() !== 'close') return;
  for (const socket of open) socket.destroy();
  console.log(JSON.stringify({ closed: open.length }));
  clearTimeout(bail);
  process.exit(0);
});
stdin.on('close', () => process.exit(0));
