import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startProxy, type Hook } from '../../src/index.js';
import { sendViaProxy } from '../helpers/client.js';
import { curlVia } from '../helpers/curl.js';
import { CLI_MAIN, startCli, TSX_LOADER } from '../helpers/mitm-cli.js';
import { startOrigin, type EchoBody, type Origin } from '../helpers/origin.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { run } from '../helpers/run.js';

const SRC_INDEX = pathToFileURL(join(import.meta.dirname, '../../src/index.ts')).href;

/** Hook modules the tests load; relative names, written into the scratch folder. */
const FILES: Record<string, string> = {
  'add-header.mjs': `
export default {
  name: 'mjs-header',
  onResponse(flow) {
    if (flow.response) flow.response.headers['x-hook-mjs'] = 'yes';
  },
};
`,
  // TypeScript-only syntax (an interface, annotations, a type-only import) proves it was compiled.
  'hooks/typed.ts': `
import type { Flow, Hook } from '${SRC_INDEX}';
interface Counter { count: number }
const counter: Counter = { count: 0 };
const hooks: Hook[] = [
  { name: 'ts-request', onRequest(flow: Flow): void { flow.request.headers['x-from-ts'] = 'yes'; } },
  {
    name: 'ts-response',
    onResponse(flow: Flow): void {
      counter.count += 1;
      if (flow.response) flow.response.headers['x-hook-ts'] = \`call-\${counter.count}\`;
    },
  },
];
export default hooks;
`,
  // A stock hook from the library, as a hook file would use it (import from 'mitm' when installed).
  'stock.mts': `
import { setHeaders } from '${SRC_INDEX}';
export default setHeaders({ response: { 'x-stock': 'from-file' } });
`,
  'order.mjs': `
export default {
  name: 'from-file',
  onResponse(flow) {
    const before = flow.response.headers['x-order'];
    flow.response.headers['x-order'] = before ? before + ',file' : 'file';
  },
};
`,
  'faulty-end.mjs': `
export default { name: 'faulty-recorder', onFlowEnd() { throw new Error('disk full'); } };
`,
  'throws.mjs': `throw new Error('configuration missing: API_TOKEN');\n`,
  'syntax.ts': `export default { name: 'broken' ;\n`,
  'syntax.mjs': `// fine so far\nconst twice = (n) => n * 2;\nexport default { name: 'broken', onRequest() { return twice(1) +* 2; } };\n`,
  'no-default.mjs': `export const hook = { name: 'x', onRequest() {} };\n`,
  'number.mjs': `export default 42;\n`,
  'empty.mjs': `export default [];\n`,
  'factory.mjs': `export default function makeHook() { return { name: 'x', onRequest() {} }; }\n`,
  'nameless.mjs': `export default { onRequest() {} };\n`,
  'bad-phase.mjs': `export default { name: 'typo', onRequest: 'yes' };\n`,
  'no-phase.mjs': `export default { name: 'lazy', onrequest() {} };\n`,
  'second-bad.mjs': `export default [{ name: 'ok', onRequest() {} }, { name: '' }];\n`,
  'hook.json': `{}\n`,
};

// `--hook FILE` and the `hook` option: hook modules loaded at start-up.
describe('hook files', { timeout: 90_000 }, () => {
  let pki: TestPki;
  let origin: Origin;
  let plain: Origin;
  let scratch: string;
  const path = (name: string): string => join(scratch, name);

  before(async () => {
    pki = await createTestPki();
    [origin, plain] = await Promise.all([startOrigin(pki.origin), startOrigin()]);
    scratch = await mkdtemp(join(tmpdir(), 'mitm-test-hook-files-'));
    await mkdir(path('hooks'));
    await Promise.all(Object.entries(FILES).map(([name, text]) => writeFile(path(name), text)));
  });

  after(async () => {
    await Promise.all([origin?.close(), plain?.close()]);
    await rm(scratch, { recursive: true, force: true });
    await pki?.cleanup();
  });

  it('mitm start --hook loads .mjs, .ts and .mts files relative to the working directory', async (t) => {
    const ca = path('cli-ca');
    const cli = startCli(
      [
        '--port',
        '0',
        '--ca',
        ca,
        '--upstream-ca',
        pki.ca.certPath,
        '--quiet',
        '--hook',
        'add-header.mjs',
        '--hook',
        './hooks/typed.ts',
        '--hook',
        path('stock.mts'),
        '--hook',
        'faulty-end.mjs',
      ],
      scratch,
    );
    t.after(() => cli.stop());
    const port = await cli.port;
    const proxyUrl = `http://127.0.0.1:${port}`;

    const https = await curlVia(proxyUrl, [`${origin.url}/echo`], join(ca, 'ca.pem'));
    assert.equal(https.status, 200, https.stderr);
    assert.equal(https.headers['x-hook-mjs'], 'yes');
    assert.equal(https.headers['x-hook-ts'], 'call-1');
    assert.equal(https.headers['x-stock'], 'from-file');
    assert.equal((JSON.parse(https.text) as EchoBody).headers['x-from-ts'], 'yes');

    const http = await curlVia(proxyUrl, [`${plain.url}/hello`]);
    assert.equal(http.text, 'hello');
    assert.equal(http.headers['x-hook-mjs'], 'yes');
    assert.equal(http.headers['x-hook-ts'], 'call-2', 'one module instance serves every flow');
    // A hook file failing after the response was sent is reported on stderr, not swallowed.
    await cli.waitForStderr(/^hook "faulty-recorder" failed in onFlowEnd: disk full$/m);

    await cli.stop();
    const { code, stderr } = await cli.exited;
    assert.equal(code, 0, stderr);
  });

  it('mitm start exits 1 naming the file when a hook file is missing, throws or does not compile', async () => {
    const cases = [
      { file: 'missing.mjs', reason: /no such file/ },
      { file: 'throws.mjs', reason: /it failed to import: configuration missing: API_TOKEN/ },
      { file: 'syntax.ts', reason: /it failed to import: .*Expected "}" but found ";"/ },
      { file: 'syntax.mjs', reason: /it failed to import: \/.*\/syntax\.mjs:3:65: SyntaxError: Unexpected token '\*'$/ },
    ];
    for (const { file, reason } of cases) {
      const result = await run(
        process.execPath,
        ['--import', TSX_LOADER, CLI_MAIN, 'start', '--port', '0', '--ca', path('bad-ca'), '--hook', file],
        {
          cwd: scratch,
          env: { DEBUG: '' },
        },
      );
      assert.equal(result.code, 1, `${file}: ${result.stderr}`);
      const lines = result.stderr.trim().split('\n');
      const last = lines.at(-1) ?? '';
      assert.ok(last.startsWith(`mitm: cannot load hook file ${path(file)}: `), `${file}: ${result.stderr}`);
      assert.match(last, reason);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(result.stdout.toString(), '', 'it never started listening');
    }
  });

  it('startProxy rejects with hook_load_failed for each kind of bad default export', async () => {
    const cases: Array<[string, RegExp]> = [
      ['no-default.mjs', /has no default export/],
      ['number.mjs', /its default export is not a hook object/],
      ['empty.mjs', /empty array: it exports no hook/],
      ['factory.mjs', /is a function, not a hook/],
      ['nameless.mjs', /has no non-empty string "name"/],
      ['bad-phase.mjs', /\("typo"\) has a onRequest that is not a function/],
      ['no-phase.mjs', /\("lazy"\) implements no phase/],
      ['second-bad.mjs', /hook #2 of its default export has no non-empty string "name"/],
      ['hook.json', /unsupported extension ".json"/],
      ['hooks', /not a file/],
    ];
    for (const [file, reason] of cases) {
      await assert.rejects(startProxy({ port: 0, ca: path('lib-ca'), hook: [path(file)] }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'hook_load_failed', file);
        assert.ok(error.message.startsWith(`cannot load hook file ${path(file)}: `), error.message);
        assert.match(error.message, reason, file);
        return true;
      });
    }
  });

  it('runs file hooks after the hooks option and before proxy.use(), in the order given', async (t) => {
    const appender = (label: string): Hook => ({
      name: label,
      onResponse(flow) {
        const before = flow.response?.headers['x-order'];
        if (flow.response) flow.response.headers['x-order'] = before ? `${String(before)},${label}` : label;
      },
    });
    const proxy = await startProxy({
      port: 0,
      ca: path('lib-ca'),
      hooks: [appender('option')],
      hook: [path('order.mjs'), path('add-header.mjs')],
    });
    t.after(() => proxy.close());
    proxy.use(appender('use'));
    const res = await sendViaProxy(proxy.port, `${plain.url}/hello`);
    assert.equal(res.headers['x-order'], 'option,file,use');
    assert.equal(res.headers['x-hook-mjs'], 'yes');
  });
});
