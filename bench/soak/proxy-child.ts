// The proxy under soak (or fuzz), in a process of its own so its figures are its own, and a crash
// is seen as an exit: started by bench/soak.ts and bench/fuzz/run-fuzz.ts with IPC and, as its
// argument, the startProxy options as JSON (soak defaults otherwise). It sends {port, caPem} once
// listening and answers each 'sample' message with its RSS, heap, active resources, open file
// descriptors and client connections; 'open' with the remote ports and state of the client
// connections still open (the fuzzer names the inputs that left them).
import { subscribe } from 'node:diagnostics_channel';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { startProxy, type StartOptions } from '../../src/index.js';

/** One reading of the proxy process. */
export interface ProxySample {
  readonly rssMiB: number;
  readonly heapMiB: number;
  readonly handles: number;
  readonly fds: number;
  readonly connections: number;
}

/** A client connection still open on the proxy: who it came from and what state it is in. */
export interface OpenConnection {
  readonly remotePort: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** The peer's FIN was read. */
  readonly readableEnded: boolean;
  readonly flowing: boolean | null;
  readonly writableEnded: boolean;
  readonly timeoutMs: number | undefined;
}

// Every connection the proxy's listeners accept (Node publishes each one here), to describe those
// still open: the proxy's own count says how many, not which.
const accepted = new Set<Socket>();
subscribe('net.server.socket', (message) => {
  const socket = (message as { socket: Socket }).socket;
  accepted.add(socket);
  socket.once('close', () => accepted.delete(socket));
});

const dir = await mkdtemp(join(tmpdir(), 'mitm-soak-ca-'));
const given = process.argv[2] === undefined ? {} : (JSON.parse(process.argv[2]) as StartOptions);
const proxy = await startProxy({ insecure: true, resolve: ['*.test=127.0.0.1'], keep: 200, ...given, port: 0, ca: dir });
process.send?.({ port: proxy.port, caPem: proxy.caCertPem });
process.on('message', (message: unknown) => {
  if (message === 'sample') {
    const memory = process.memoryUsage();
    const sample: ProxySample = {
      rssMiB: memory.rss / 2 ** 20,
      heapMiB: memory.heapUsed / 2 ** 20,
      handles: process.getActiveResourcesInfo().length,
      fds: readdirSync('/proc/self/fd').length,
      connections: proxy.connections,
    };
    process.send?.({ sample });
  } else if (message === 'open') {
    const open: OpenConnection[] = [...accepted].map((socket) => ({
      remotePort: socket.remotePort ?? 0,
      bytesRead: socket.bytesRead,
      bytesWritten: socket.bytesWritten,
      readableEnded: socket.readableEnded,
      flowing: socket.readableFlowing,
      writableEnded: socket.writableEnded,
      timeoutMs: socket.timeout,
    }));
    process.send?.({ open });
  } else if (message === 'close') {
    void proxy
      .close()
      .then(() => rm(dir, { recursive: true, force: true }))
      .then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
