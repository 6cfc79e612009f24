import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlowRecord } from '../../src/index.js';
import { CliProcess } from '../helpers/cli-process.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { run, runOk, type RunResult } from '../helpers/run.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

let scratch = '';
before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'mitm-cli-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Runs the CLI to completion. DEBUG is cleared so stack traces appear only when a test asks. */
function mitm(args: readonly string[]): Promise<RunResult> {
  return run(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { DEBUG: '' } });
}

// Safety net only, never synchronisation: a CLI that never prints the awaited line fails the test
// instead of hanging the run.
const LONG = { timeout: 30_000 };

test('usage errors exit 2, name the flag and point at the help', async () => {
  const cases = [
    { args: ['start', '--port', 'abc'], flag: '--port' },
    { args: ['start', '--bogus'], flag: '--bogus' },
    { args: ['start', '--log-format', 'xml'], flag: '--log-format' },
    { args: ['start', '--port', '70000'], flag: '--port' },
    { args: ['ca', 'export', '--format', 'pdf'], flag: '--format' },
  ];
  for (const { args, flag } of cases) {
    const result = await mitm(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^mitm: .*${flag}`), args.join(' '));
    assert.match(result.stderr, new RegExp(`run mitm ${args[0] === 'ca' ? 'ca export' : 'start'} --help`));
    assert.equal(result.stdout.length, 0);
  }
  const unknown = await mitm(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"\nrun mitm --help/);
});

test('--help and --version', async () => {
  const help = await mitm(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /^Usage: mitm <command> \[options\]\n/);
  assert.match(help.stdout.toString(), /\n {2}start +Run the proxy[\s\S]*\n {2}ca export +Write/);
  const startHelp = await mitm(['start', '--help']);
  assert.equal(startHelp.code, 0);
  assert.match(startHelp.stdout.toString(), /\n {2}--upstream-ca FILE +Also trust/);
  const caHelp = await mitm(['ca', '--help']);
  assert.equal(caHelp.code, 0);
  assert.match(caHelp.stdout.toString(), /mitm ca import/);
  const version = await mitm(['--version']);
  const pkg: unknown = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
  assert.ok(typeof pkg === 'object' && pkg !== null && 'version' in pkg);
  assert.equal(version.stdout.toString(), `${String(pkg.version)}\n`);
});

test('ca init creates once; ca info and a second init show the same fingerprint', async () => {
  const dir = path.join(scratch, 'init-ca');
  const first = await runOk(process.execPath, [...CLI, 'ca', 'init', '--ca', dir], { cwd: ROOT });
  assert.match(first.stdout.toString(), /^created a new root CA in /);
  const fingerprint = /SHA-256 fingerprint: ([0-9A-F:]{95})\n/.exec(first.stdout.toString())?.[1];
  assert.ok(fingerprint, first.stdout.toString());

  const again = await mitm(['ca', 'init', '--ca', dir]);
  assert.equal(again.code, 0);
  assert.match(again.stdout.toString(), /^a root CA is already present in /);
  assert.ok(again.stdout.toString().includes(fingerprint));

  const info = await mitm(['ca', 'info', '--ca', dir]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout.toString(), /^subject: +.*CN=/m);
  assert.match(info.stdout.toString(), /^valid until: +\d{4}-/m);
  assert.ok(info.stdout.toString().includes(`SHA-256 fingerprint: ${fingerprint}`));
});

test('ca export writes DER that openssl reads, and PEM to stdout', async () => {
  const dir = path.join(scratch, 'export-ca');
  await runOk(process.execPath, [...CLI, 'ca', 'init', '--ca', dir], { cwd: ROOT });
  const der = path.join(scratch, 'ca.der');
  const exported = await mitm(['ca', 'export', '--ca', dir, '--format', 'der', '--out', der]);
  assert.equal(exported.code, 0, exported.stderr);
  const subject = await runOk('openssl', ['x509', '-inform', 'der', '-in', der, '-noout', '-subject']);
  assert.match(subject.stdout.toString(), /^subject=.*mitm/);

  const pem = await mitm(['ca', 'export', '--ca', dir, '--format', 'pem']);
  assert.equal(pem.code, 0, pem.stderr);
  // Compared modulo line endings: the file on disk may use CRLF (forge writes PEM that way).
  const onDisk = await readFile(path.join(dir, 'ca.pem'), 'utf8');
  assert.equal(pem.stdout.toString().replace(/\r\n/g, '\n'), onDisk.replace(/\r\n/g, '\n'));
});

test('ca info on a missing CA exits 1 with a one-line reason', async () => {
  const result = await mitm(['ca', 'info', '--ca', path.join(scratch, 'no-such-ca')]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^mitm: .*ca\.pem/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});

test('start prints the listening line, logs a flow, and exits 0 on SIGTERM', LONG, async (t) => {
  const origin: Origin = await startOrigin();
  t.after(() => origin.close());
  const cli = new CliProcess(['start', '--port', '0', '--ca', path.join(scratch, 'start-ca')]);
  t.after(() => cli.kill());
  const port = await cli.listeningPort();
  assert.ok(port > 0);

  // A plain-HTTP request through the proxy: the log line is the CLI's whole job for it.
  const request = http.get({ host: '127.0.0.1', port, path: `${origin.url}/hello`, agent: false });
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  response.resume();
  await once(response, 'end');
  const logged = await cli.waitForLine('stdout', /^GET (\S+) 200 (.*)$/);
  assert.equal(logged[1], `${origin.url}/hello`);
  assert.match(logged[2] ?? '', /^text\/plain 5 B \d+ ms$/);

  cli.child.kill('SIGTERM');
  const { code, signal, stderr } = await cli.exited;
  assert.equal(signal, null);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /^CA: .*start-ca\/ca\.pem \(created now; trust it to see HTTPS traffic\)$/m);
});

test('start --log-format json keeps stdout to one FlowRecord per line', LONG, async (t) => {
  const origin: Origin = await startOrigin();
  t.after(() => origin.close());
  const cli = new CliProcess(['start', '--port', '0', '--ca', path.join(scratch, 'json-ca'), '--log-format', 'json']);
  t.after(() => cli.kill());
  // The listening line is not a FlowRecord: it goes to stderr, so `mitm start ... | jq` reads only flows.
  const port = await cli.listeningPort('stderr');

  const request = http.get({ host: '127.0.0.1', port, path: `${origin.url}/hello`, agent: false });
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  response.resume();
  await once(response, 'end');
  await cli.waitForLine('stdout', /"url":/);

  cli.child.kill('SIGTERM');
  const { code, stdout, stderr } = await cli.exited;
  assert.equal(code, 0, stderr);
  const records = stdout.split('\n').map((line) => JSON.parse(line) as FlowRecord);
  assert.equal(records.length, 1, stdout);
  assert.equal(records[0]?.url, `${origin.url}/hello`);
  assert.equal(records[0]?.status, 200);
});

test('start exits 0 on SIGINT and warns about --insecure', LONG, async (t) => {
  const cli = new CliProcess(['start', '--port', '0', '--ca', path.join(scratch, 'sigint-ca'), '--insecure', '--quiet']);
  t.after(() => cli.kill());
  await cli.listeningPort();
  cli.child.kill('SIGINT');
  const { code, stderr } = await cli.exited;
  assert.equal(code, 0, stderr);
  assert.match(stderr, /^warning: --insecure: origin certificates are NOT verified$/m);
});

test('a second start on a port in use exits 1 with the reason and no stack', LONG, async (t) => {
  const ca = path.join(scratch, 'busy-ca');
  const first = new CliProcess(['start', '--port', '0', '--ca', ca]);
  t.after(() => first.kill());
  const port = await first.listeningPort();
  const second = await mitm(['start', '--port', String(port), '--ca', ca]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`^mitm: port ${port} is already in use`, 'm'));
  assert.doesNotMatch(second.stderr, /\n\s+at /);
  assert.equal(second.stdout.length, 0);
});
