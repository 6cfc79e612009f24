// Preloaded into a proxy by bench/idle-memory.ts (`node --import …/heap-probe.js`): on SIGUSR2 it
// writes V8's heapUsed and code space (MiB) to the file named by HEAP_PROBE (JSON).
import { renameSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const out = process.env.HEAP_PROBE;
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

if (out) {
  process.on('SIGUSR2', () => {
    const code = getHeapSpaceStatistics().find((space) => space.space_name === 'code_space');
    // Renamed into place, so the reader never sees half a file.
    writeFileSync(`${out}.part`, JSON.stringify({ heapUsed: mib(process.memoryUsage().heapUsed), codeSpace: mib(code?.space_size ?? 0) }));
    renameSync(`${out}.part`, out);
  });
}
