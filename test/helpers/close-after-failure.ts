// Run as a child process by test/e2e/origin-timers.test.ts (`node --import tsx close-after-failure.ts
// ORIGIN_PORT`): starts a proxy, sends one intercepted request to https://localhost:ORIGIN_PORT/
// (an origin the proxy does not trust, so its handshake fails), closes the proxy and then does
// nothing more. The process must exit on its own: whatever still holds the event loop is a leak.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy } from '../../src/index.js';
import { openTlsTunnel } from './client.js';

const port = Number(process.argv[2]);
const dir = await mkdtemp(join(tmpdir(), 'mitm-test-ca-'));
const proxy = await startProxy({ port: 0, ca: dir });
const ca = await readFile(join(dir, 'ca.pem'), 'utf8');
const authority = `localhost:${port}`;
const tls = await openTlsTunnel(proxy.port, authority, { ca, servername: 'localhost' });
const chunks: Buffer[] = [];
tls.on('data', (chunk: Buffer) => chunks.push(chunk));
tls.write(`GET / HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
await new Promise((resolve) => tls.once('close', resolve));
const head = Buffer.concat(chunks).toString('latin1');
process.stdout.write(`${head.split('\r\n')[0] ?? ''}\n${head.split('\r\n\r\n')[1] ?? ''}\n`);
await proxy.close();
await rm(dir, { recursive: true, force: true });
process.stdout.write('closed\n');
// What still holds the event loop, for the parent's failure message.
process.stderr.write(`active after close: ${process.getActiveResourcesInfo().join(', ')}\n`);
