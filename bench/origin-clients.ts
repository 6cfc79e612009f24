// How much CPU one origin request costs the proxy's origin side, by HTTP client: Node's
// https.request with a keep-alive Agent (what mitm uses for HTTP/1.1 origins) against undici's Pool
// (llhttp in WebAssembly; a candidate for that seam, origin/origin-call.ts). 16 requests in flight,
// 1 KiB answers from the bench origin on core 0; this process on core 1.
// Run: node --import tsx bench/origin-clients.ts [requests=6000]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { buildTree, built } from './lib/build.js';
import { makeOriginPki } from './lib/certs.js';
import { CLIENT_CPU, PROXY_CPU, Proc, killAll } from './lib/procs.js';

const requests = Number(process.argv[2] ?? 6000);
const inFlight = 16;
const dir = await mkdtemp(join(tmpdir(), 'mitm-bench-'));
try {
  spawnSync('taskset', ['-a', '-p', '-c', String(PROXY_CPU), String(process.pid)], { stdio: 'ignore' });
  await buildTree();
  const pki = makeOriginPki(dir, 0);
  const origin = new Proc('node', [built('bench/origin.ts'), '--cert', pki.cert, '--key', pki.key], CLIENT_CPU);
  const { h1Port } = (await origin.nextJson(30_000)) as { h1Port: number };
  const ca = readFileSync(pki.caCert);
  const agent = new https.Agent({ keepAlive: true, maxSockets: inFlight, ca });
  const pool = new Pool(`https://localhost:${h1Port}`, { connections: inFlight, connect: { ca } });

  const viaNode = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = https.request({ host: 'localhost', port: h1Port, path: '/1k', agent }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () =>
          res.statusCode === 200 && bytes === 1024 ? resolve() : reject(new Error(`${res.statusCode}, ${bytes} bytes`)),
        );
      });
      req.on('error', reject);
      req.end();
    });
  const viaUndici = async (): Promise<void> => {
    const { statusCode, body } = await pool.request({ path: '/1k', method: 'GET' });
    const bytes = (await body.arrayBuffer()).byteLength;
    if (statusCode !== 200 || bytes !== 1024) throw new Error(`${statusCode}, ${bytes} bytes`);
  };
  const round = async (one: () => Promise<void>): Promise<{ cpuUs: number; rate: number }> => {
    let left = requests;
    const cpu = process.cpuUsage();
    const start = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (left-- > 0) await one();
      }),
    );
    const used = process.cpuUsage(cpu);
    return { cpuUs: (used.user + used.system) / requests, rate: requests / ((performance.now() - start) / 1000) };
  };
  const clients = { 'https.request + Agent': viaNode, 'undici Pool': viaUndici };
  for (const one of Object.values(clients)) await round(one); // warm-up
  // Alternating rounds, so both see the same machine.
  const results = new Map<string, number[]>();
  for (let i = 0; i < 3; i++) {
    for (const [name, one] of Object.entries(clients)) {
      const { cpuUs } = await round(one);
      results.set(name, [...(results.get(name) ?? []), cpuUs]);
    }
  }
  for (const [name, cpu] of results) {
    console.log(`${name.padEnd(22)} CPU per request: ${cpu.map((us) => `${us.toFixed(0)} µs`).join(', ')}`);
  }
  agent.destroy();
  await pool.close();
} finally {
  killAll();
  await rm(dir, { recursive: true, force: true });
}
