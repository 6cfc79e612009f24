// What reading the client's ClientHello before TLS takes the socket costs a new connection
// (tls/client-hello.ts peekClientHello, which every intercepted CONNECT now does, by name too).
// TLS handshakes over loopback to four servers, in alternating rounds: one wraps each accepted
// socket in a TLSSocket at once (`unread`, the floor: tls-relay), one first reads the first bytes
// and hands them back (`first`, as connect.ts does to tell TLS from plain HTTP), one then also
// reads the socket again for the ClientHello (`reread`, what intercept-tls.ts did), and one parses
// the ClientHello from the first bytes already read (`parsed`, what it does now: peekClientHello
// with `seen`). Client and servers share this process: the CPU figures are per handshake, both
// sides together, so only differences count.
// Run: node --import tsx bench/hello-peek.ts [handshakes per round=300] [rounds=8]
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, createSecureContext, TLSSocket } from 'node:tls';
import { parseClientHello, peekClientHello } from '../src/tls/client-hello.js';

const perRound = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 8);
const dir = mkdtempSync(join(tmpdir(), 'mitm-hello-peek-'));
try {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=peek.test',
      '-addext',
      'subjectAltName=DNS:peek.test',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'pipe' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const context = createSecureContext({ cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') });
  type Mode = 'unread' | 'first' | 'reread' | 'parsed';
  const modes: readonly Mode[] = ['unread', 'first', 'reread', 'parsed'];
  const serve = async (raw: Socket, mode: Mode): Promise<void> => {
    if (mode !== 'unread') {
      // connect.ts: the first bytes, read and handed back, paused for whoever reads next.
      const [first] = (await once(raw, 'data')) as [Buffer];
      raw.pause();
      raw.unshift(first);
      if (mode === 'reread') await peekClientHello(raw);
      if (mode === 'parsed') await peekClientHello(raw, first);
    }
    const tls = new TLSSocket(raw, { isServer: true, secureContext: context });
    tls.on('error', () => tls.destroy());
    tls.once('secure', () => tls.end());
  };
  const listen = async (mode: Mode): Promise<number> => {
    const server = createServer((raw) => void serve(raw, mode));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    server.unref();
    return (server.address() as AddressInfo).port;
  };
  const ports: Record<Mode, number> = { unread: 0, first: 0, reread: 0, parsed: 0 };
  for (const mode of modes) ports[mode] = await listen(mode);
  const handshake = async (port: number): Promise<void> => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'peek.test', ca: cert, ALPNProtocols: ['h2', 'http/1.1'] });
    await once(socket, 'secureConnect');
    socket.destroy();
  };
  const round = async (port: number): Promise<{ ms: number; cpuUs: number }> => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < perRound; i++) await handshake(port);
    const used = process.cpuUsage(cpu);
    return { ms: (performance.now() - start) / perRound, cpuUs: (used.user + used.system) / perRound };
  };
  for (const mode of modes) await round(ports[mode]);
  const seen: Record<Mode, { ms: number; cpuUs: number }[]> = { unread: [], first: [], reread: [], parsed: [] };
  for (let r = 0; r < rounds; r++) {
    // Each round in another order, so no mode always follows the same one.
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(r + k) % modes.length] as Mode;
      seen[mode].push(await round(ports[mode]));
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  console.log(`${rounds} rounds of ${perRound} handshakes each, alternating (medians; ranges)`);
  for (const mode of modes) {
    const ms = seen[mode].map((x) => x.ms);
    const cpu = seen[mode].map((x) => x.cpuUs);
    console.log(
      `  ${mode.padEnd(7)} ${median(ms).toFixed(3)} ms per handshake (${Math.min(...ms).toFixed(3)}–${Math.max(...ms).toFixed(3)}), ` +
        `${median(cpu).toFixed(0)} µs CPU (${Math.min(...cpu).toFixed(0)}–${Math.max(...cpu).toFixed(0)})`,
    );
  }
  // The parse alone, on a real ClientHello (Node's, ~300 bytes) read many times.
  const hello = await captureHello();
  const n = 100_000;
  const start = performance.now();
  for (let i = 0; i < n; i++) parseClientHello(hello);
  console.log(`  parseClientHello alone: ${(((performance.now() - start) / n) * 1000).toFixed(2)} µs per ${hello.length}-byte hello`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** A real ClientHello, as Node's TLS client sends it (to a server that reads it and hangs up). */
async function captureHello(): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = tlsConnect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'peek.test' });
  client.on('error', () => undefined);
  const [socket] = await accepted;
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  client.destroy();
  socket.destroy();
  server.close();
  return chunk;
}
