import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCa } from '../../src/cli/ca.js';
import { UsageError } from '../../src/cli/flags.js';
import type { Io } from '../../src/cli/output/io.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mitm-cli-ca-'));
  await runCa(['init', '--ca', dir], capture(false));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An Io whose stdout claims to be a terminal or not, keeping every chunk written. */
function capture(isTTY: boolean): Io & { chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const write = (chunk: string | Uint8Array): boolean => chunks.push(Buffer.from(chunk)) > 0;
  return { chunks, stdout: { isTTY, write }, stderr: { write: () => true } };
}

test('binary exports are refused on a terminal, naming the format and the way out', async () => {
  for (const format of ['der', 'p12']) {
    const io = capture(true);
    await assert.rejects(
      runCa(['export', '--ca', dir, '--format', format], io),
      (error: unknown) => error instanceof UsageError && error.message.startsWith(`--format ${format}: refusing`),
    );
    assert.equal(io.chunks.length, 0);
  }
});

test('PEM may go to a terminal, and DER goes to a pipe as the certificate itself', async () => {
  const terminal = capture(true);
  assert.equal(await runCa(['export', '--ca', dir, '--format', 'pem'], terminal), 0);
  assert.match(Buffer.concat(terminal.chunks).toString(), /^-----BEGIN CERTIFICATE-----/);

  const pipe = capture(false);
  assert.equal(await runCa(['export', '--ca', dir, '--format', 'der'], pipe), 0);
  const certificate = new X509Certificate(Buffer.concat(pipe.chunks));
  assert.ok(certificate.ca);
});

test('ca subcommand mistakes are usage errors', async () => {
  await assert.rejects(runCa([], capture(false)), /missing ca subcommand \(init, info, export, import\)/);
  await assert.rejects(runCa(['print'], capture(false)), /unknown ca subcommand "print"/);
  await assert.rejects(runCa(['import', '--ca', dir], capture(false)), /^UsageError: missing --from DIR$/);
});
