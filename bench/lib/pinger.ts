// Another client of this process's event loop (bench/mint-burst.ts): a worker thread sends pings
// over a loopback TCP socket, one at a time with 1 ms between them, and this thread answers each.
// The caller counts events (mints finished) on a counter both threads share: the worker reads it
// as soon as its ping is written, and the answer carries its value when the ping was answered, so
// each ping knows how many events it waited behind. The worker keeps round trips and counts.
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';

/** What the other client saw while a window was open. */
export interface PingFigures {
  readonly count: number;
  readonly maxMs: number;
  readonly p99Ms: number;
  /** The largest count any ping was answered with. */
  readonly maxBehind: number;
  /** How many pings were answered with each count (index = count). */
  readonly behind: readonly number[];
}

/** A running pinger: windows over which to gather figures, then close(). */
export interface Pinger {
  /** Counts one event (a mint finished), as pings see it. */
  count(): void;
  /** Starts gathering; stop() ends it and returns what the pings saw. */
  window(): { stop(): Promise<PingFigures> };
  close(): Promise<void>;
}

// CommonJS, as an eval'd worker runs. Times are performance.timeOrigin + now(): one clock for both threads.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { connect } = require('node:net');
const { performance } = require('node:perf_hooks');
const events = new Int32Array(workerData.counter);
const socket = connect(workerData.port, '127.0.0.1');
socket.setNoDelay(true);
let recording = false, closed = false, sentAt = 0, seen = 0, rtts = [], behind = [], pending = Buffer.alloc(0);
const ping = () => {
  if (closed) return;
  sentAt = performance.now();
  socket.write(Buffer.of(1));
  // The ping is in the kernel now: every event counted from here on, it waits behind.
  seen = Atomics.load(events, 0);
};
socket.on('connect', () => { parentPort.postMessage('connected'); ping(); });
socket.on('error', () => {});
socket.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const n = pending.readUInt32LE(0) - seen;
    pending = pending.subarray(4);
    if (recording) { rtts.push(performance.now() - sentAt); behind[n] = (behind[n] ?? 0) + 1; }
    setTimeout(ping, 1);
  }
});
parentPort.on('message', (message) => {
  if (message === 'start') { recording = true; rtts = []; behind = []; }
  else if (message === 'stop') { recording = false; parentPort.postMessage({ rtts, behind: Array.from(behind, (n) => n ?? 0) }); }
  else { closed = true; socket.destroy(); parentPort.close(); }
});
`;

/** Starts the worker and the loopback server it pings (one byte a ping, answered with the count). */
export async function startPinger(): Promise<Pinger> {
  const counter = new SharedArrayBuffer(4);
  const events = new Int32Array(counter);
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) {
        const reply = Buffer.allocUnsafe(4);
        reply.writeUInt32LE(Atomics.load(events, 0));
        socket.write(reply);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const worker = new Worker(WORKER, { eval: true, workerData: { port: (server.address() as AddressInfo).port, counter } });
  const [first] = (await once(worker, 'message')) as [unknown];
  if (first !== 'connected') throw new Error(`pinger: unexpected first message ${String(first)}`);
  return {
    count() {
      Atomics.add(events, 0, 1);
    },
    window() {
      worker.postMessage('start');
      return {
        async stop() {
          worker.postMessage('stop');
          const [seen] = (await once(worker, 'message')) as [{ rtts: number[]; behind: number[] }];
          const sorted = [...seen.rtts].sort((a, b) => a - b);
          return {
            count: sorted.length,
            maxMs: sorted.at(-1) ?? 0,
            p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? 0,
            maxBehind: Math.max(0, seen.behind.length - 1),
            behind: seen.behind,
          };
        },
      };
    },
    async close() {
      const exited = once(worker, 'exit');
      worker.postMessage('close');
      await exited;
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
