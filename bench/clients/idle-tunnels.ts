// Holds many idle intercepted tunnels open through a proxy: for each, CONNECT, then a TLS
// handshake with the proxy's minted certificate, then nothing. Started by bench/run.ts as
//   node …/idle-tunnels.js --proxy-port N --target HOST:PORT --count N --ca FILE
// prints {"open":N,"failed":N,"error"?:…} once all are settled, then on the stdin line "close"
// destroys them and prints {"closed":N}. Bounded: it gives up after --deadline-ms (default 120 s).
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';

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
const host = target.slice(0, target.lastIndexOf(':'));
const deadline = Date.now() + Number(values['deadline-ms']);

const open: TLSSocket[] = [];
let failed = 0;
let firstError: string | undefined;

/** Reads the proxy's answer to CONNECT up to the blank line; anything after it is handed back. */
async function connectHead(socket: Socket): Promise<string> {
  let head = '';
  for await (const chunk of socket.iterator({ destroyOnReturn: false })) {
    head += (chunk as Buffer).toString('latin1');
    const end = head.indexOf('\r\n\r\n');
    if (end >= 0) {
      const rest = head.slice(end + 4);
      if (rest) socket.unshift(Buffer.from(rest, 'latin1'));
      return head.slice(0, end);
    }
  }
  throw new Error('proxy closed during CONNECT');
}

async function openOne(): Promise<void> {
  const raw = connect(proxyPort, '127.0.0.1');
  raw.setTimeout(30_000, () => raw.destroy(new Error('timed out')));
  try {
    await once(raw, 'connect');
    raw.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    const head = await connectHead(raw);
    if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`CONNECT answered: ${head.split('\r\n')[0]}`);
    const tls = tlsConnect({ socket: raw, ca, servername: host, ALPNProtocols: ['http/1.1'] });
    await once(tls, 'secureConnect');
    raw.setTimeout(0);
    tls.on('error', () => undefined);
    open.push(tls);
  } catch (error) {
    failed += 1;
    firstError ??= error instanceof Error ? error.message : String(error);
    raw.destroy();
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
