import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mockServer, type MockRuleData } from '../../src/index.js';
import { curlVia, type CurlResult } from '../helpers/curl.js';
import { startCustomOrigin, type CustomOrigin } from '../helpers/custom-origin.js';
import { CLI_MAIN, startCli, TSX_LOADER } from '../helpers/mitm-cli.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy } from '../helpers/proxy.js';
import { run, type RunResult } from '../helpers/run.js';
import { tempDir } from '../helpers/store-flows.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

// Planted secrets: none of these may appear in any exported file or in the export's output.
const SECRETS = {
  header: 'HDR-SECRET-1111',
  bearer: 'BEARER-SECRET-2222',
  cookie: 'COOKIE-SECRET-3333',
  query: 'QUERY-SECRET-4444',
  json: 'JSON-SECRET-5555',
  setCookie: 'SETCOOKIE-SECRET-6666',
} as const;

const USERS: Readonly<Record<string, unknown>> = {
  '1': { id: 1, name: 'Ada', email: 'ada@example.test', tags: ['admin'] },
  '2': { id: 2, name: 'Grace', tags: [] },
};

/**
 * An origin with an httpbin-like echo (`POST /anything` answers with every request header value,
 * the query and the body under names that are not secret), `/users/N`, a list whose items differ
 * by page, a login that sets a cookie, and an HTML page.
 */
function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://origin');
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const user = /^\/users\/(\d+)$/.exec(url.pathname)?.[1];
    if (user !== undefined) json(USERS[user] === undefined ? 404 : 200, USERS[user] ?? { error: `no user ${user}` });
    else if (url.pathname === '/anything') {
      json(200, {
        seen: Object.values(req.headers),
        args: Object.fromEntries(url.searchParams),
        data: Buffer.concat(chunks).toString('utf8'),
      });
    } else if (url.pathname === '/items') {
      json(200, url.searchParams.get('page') === '2' ? [{ sku: 'b', price: 2, sale: true }] : [{ sku: 'a', price: 1 }]);
    } else if (url.pathname === '/login') json(200, { ok: true }, { 'set-cookie': `sid=${SECRETS.setCookie}; Path=/; HttpOnly` });
    else if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<h1>home</h1>');
    } else json(404, { error: 'not found' });
  });
}

/** The requests recorded, then asked again of the mocks: curl arguments after the URL's origin. */
const REQUESTS: ReadonlyArray<readonly string[]> = [
  ['/users/1'],
  ['/users/2'],
  ['/users/9'],
  ['/items?page=1'],
  ['/items?page=2'],
  ['/login'],
  ['/'],
  [
    `/anything?access_token=${SECRETS.query}&page=1`,
    '-H',
    `x-api-key: ${SECRETS.header}`,
    '-H',
    `authorization: Bearer ${SECRETS.bearer}`,
    '-H',
    `cookie: session_id=${SECRETS.cookie}; theme=dark`,
    '-H',
    'content-type: application/json',
    '--data-binary',
    JSON.stringify({ user: 'ada', password: SECRETS.json }),
  ],
];

function mitm(args: readonly string[]): Promise<RunResult> {
  return run(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, ...args], { timeoutMs: 60_000 });
}

async function ask(proxy: { url: string; caPath: string }, origin: string, request: readonly string[]): Promise<CurlResult> {
  const [path = '/', ...rest] = request;
  const result = await curlVia(proxy.url, [...rest, `${origin}${path}`], proxy.caPath);
  assert.equal(result.exitCode, 0, result.stderr);
  return result;
}

describe('mitm mocks export: recorded traffic → typed mocks', { timeout: 240_000 }, () => {
  let pki: TestPki;
  let origin: CustomOrigin;
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let store: string;
  let out: string;
  let exported: RunResult;
  const recorded: CurlResult[] = [];

  before(async () => {
    pki = await createTestPki();
    origin = await startCustomOrigin(handler, pki.origin);
    temp = await tempDir('mitm-mocks-');
    store = join(temp.dir, 'session.db');
    out = join(temp.dir, 'mocks');
    const proxy = await startTestProxy(pki, { store });
    try {
      for (const request of REQUESTS) recorded.push(await ask(proxy, origin.url, request));
      await proxy.flows.waitFor((flow) => flow.url.includes('/anything'));
    } finally {
      await proxy.close();
    }
    exported = await mitm(['mocks', 'export', '--store', store, '--out', out]);
  });
  after(async () => {
    await origin?.close();
    await pki?.cleanup();
    await temp?.remove();
  });

  it('writes one rule per endpoint, ids templated, and says what it redacted by name only', async () => {
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /exported 5 mock rules from 8 of 8 flows to .*index\.ts/);
    const redacted = /redacted: (.*)/.exec(exported.stderr)?.[1] ?? '';
    for (const name of ['authorization', 'cookie', 'set-cookie', 'x-api-key', 'access_token', 'password', 'session_id'])
      assert.match(redacted, new RegExp(`\\b${name} ×\\d+`), `${name} in: ${redacted}`);
    assert.match(redacted, /; [1-9]\d* other occurrences of those values/);
    for (const secret of Object.values(SECRETS)) assert.equal(exported.stderr.includes(secret), false, `${secret} printed`);
    const rules = JSON.parse(await readFile(join(out, 'mocks.json'), 'utf8')) as Record<string, MockRuleData>;
    assert.deepEqual(
      Object.values(rules).map((rule) => `${rule.method} ${rule.url.replace(origin.url, '')}`),
      ['GET /items', 'GET /login', 'GET /', 'POST /anything', 'GET /users/:id'],
    );
  });

  it('no planted secret is in any exported file; placeholders are', async () => {
    const files = await readdir(out);
    assert.deepEqual(files.sort(), ['index.ts', 'mocks.json']);
    for (const file of files) {
      const text = await readFile(join(out, file), 'utf8');
      for (const [where, secret] of Object.entries(SECRETS))
        assert.equal(text.includes(secret), false, `the ${where} secret is in ${file}`);
    }
    const json = await readFile(join(out, 'mocks.json'), 'utf8');
    for (const placeholder of [
      '<redacted:authorization:',
      '<redacted:cookie:',
      '<redacted:access_token:',
      '<redacted:x-api-key:',
      '<redacted:set-cookie:',
    ])
      assert.ok(json.includes(placeholder), placeholder);
  });

  it('type-checks with tsc, and the inferred types hold every exported JSON body', async () => {
    const rules = JSON.parse(await readFile(join(out, 'mocks.json'), 'utf8')) as Record<string, MockRuleData>;
    const checks = Object.entries(rules).flatMap(([name, rule]) =>
      rule.answers
        .filter((answer) => answer.json !== undefined)
        .map(
          (answer, i) => `export const ${name}${i}: ${name[0]?.toUpperCase()}${name.slice(1)}Response = ${JSON.stringify(answer.json)};`,
        ),
    );
    const typeNames = [...new Set(checks.map((line) => /: (\w+Response) =/.exec(line)?.[1]))].join(', ');
    await writeFile(join(temp.dir, 'check.ts'), [`import type { ${typeNames} } from './mocks/index.ts';`, ...checks, ''].join('\n'));
    await writeFile(
      join(temp.dir, 'usage.ts'),
      "import { mockServer } from 'mitm';\nimport mocks from './mocks/index.ts';\nexport const mock = mockServer({ rules: mocks });\n",
    );
    await writeFile(
      join(temp.dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          target: 'es2023',
          module: 'esnext',
          moduleResolution: 'bundler',
          allowImportingTsExtensions: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(REPO, 'node_modules/@types')],
          paths: { mitm: [join(REPO, 'src/index.ts')] },
        },
        files: ['mocks/index.ts', 'check.ts', 'usage.ts'],
      }),
    );
    const tsc = await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(temp.dir, 'tsconfig.json')], {
      timeoutMs: 120_000,
    });
    assert.equal(tsc.code, 0, `tsc failed:\n${tsc.stdout.toString('utf8')}${tsc.stderr}`);
    const module = await readFile(join(out, 'index.ts'), 'utf8');
    assert.match(module, /export type GetUsersByIdResponse =\n {2}\| \{|export type GetUsersByIdResponse = \{/);
    assert.match(module, /email\?: string;/, 'a field only some recordings have is optional');
    assert.match(module, /error\?: string;|\| \{\n {2}error: string;/, 'the 404 body is part of the type');
  });

  it('served by mockServer with the origin stopped, the same requests get the same answers', async () => {
    const { default: mocks } = (await import(pathToFileURL(join(out, 'index.ts')).href)) as { default: readonly MockRuleData[] };
    const mock = mockServer({ rules: mocks, unmatched: 'fail' });
    await origin.close();
    const proxy = await startTestProxy(pki);
    try {
      proxy.proxy.use(mock);
      for (const [i, request] of REQUESTS.entries()) {
        const before = recorded[i] as CurlResult;
        const now = await ask(proxy, origin.url, request);
        assert.equal(now.status, before.status, `${request[0]}: status`);
        assert.equal(now.headers['content-type'], before.headers['content-type'], `${request[0]}: content-type`);
        if (request[0]?.startsWith('/anything')) {
          // The echo answer is the recorded one with every secret replaced.
          for (const secret of Object.values(SECRETS)) assert.equal(now.text.includes(secret), false);
          assert.match(now.text, /<redacted:authorization:\d+>/);
          assert.equal(JSON.parse(now.text).args.page, '1');
        } else {
          assert.equal(now.text, before.text, `${request[0]}: body`);
        }
      }
      const login = await ask(proxy, origin.url, ['/login']);
      assert.match(login.headers['set-cookie'] ?? '', /^<redacted:set-cookie:\d+>$/);
      // A user not recorded gets the endpoint's last recorded answer (/users/9, the 404).
      const other = await ask(proxy, origin.url, ['/users/5']);
      assert.equal(other.status, 404);
      assert.deepEqual(JSON.parse(other.text), { error: 'no user 9' });
      assert.equal(origin.requestCount(), REQUESTS.length, 'nothing reached the stopped origin');
      assert.deepEqual(mock.pending(), []);
    } finally {
      await proxy.close();
    }
  });

  it('mitm start --hook serves them: a hook file whose default export is mockServer({ rules: mocks })', async (t) => {
    // A project of ES modules, as most that use TypeScript with tsx are (docs/mocks.md: CommonJS).
    await writeFile(join(temp.dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(
      join(temp.dir, 'mock-hook.ts'),
      "import { mockServer } from 'mitm';\nimport mocks from './mocks/index.ts';\nexport default mockServer({ rules: mocks, unmatched: 'fail' });\n",
    );
    const ca = join(temp.dir, 'cli-ca');
    const cli = startCli(['--port', '0', '--ca', ca, '--quiet', '--hook', 'mock-hook.ts'], temp.dir);
    t.after(() => cli.stop());
    const proxy = { url: `http://127.0.0.1:${await cli.port}`, caPath: join(ca, 'ca.pem') };
    const before = origin.requestCount();
    const now = await ask(proxy, origin.url, ['/users/1']);
    assert.equal(now.status, 200);
    assert.equal(now.text, recorded[0]?.text);
    const unmatched = await ask(proxy, origin.url, ['/nowhere']);
    assert.equal(unmatched.status, 501);
    assert.match(unmatched.text, /rules:\n {2}GET https:\/\/localhost:\d+\/items \(\d+ used\)/);
    assert.equal(origin.requestCount(), before, 'the origin was not asked');
  });

  it('--har reads a HAR instead of a store; a filter narrows the flows', async () => {
    const har = await mitm(['flows', '--store', store, '--format', 'har']);
    assert.equal(har.code, 0, har.stderr);
    await writeFile(join(temp.dir, 'session.har'), har.stdout);
    const fromHar = join(temp.dir, 'from-har');
    const result = await mitm(['mocks', 'export', '--har', join(temp.dir, 'session.har'), '--out', fromHar, 'path:/users*']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /exported 1 mock rules from 3 of 3 flows/);
    const rules = JSON.parse(await readFile(join(fromHar, 'mocks.json'), 'utf8')) as Record<string, MockRuleData>;
    const expected = JSON.parse(await readFile(join(out, 'mocks.json'), 'utf8')) as Record<string, MockRuleData>;
    assert.deepEqual(rules, { getUsersById: expected.getUsersById });
  });

  it('usage errors name the flag: a bad --redact, no input, an unknown subcommand', async () => {
    const bad = await mitm(['mocks', 'export', '--store', store, '--out', join(temp.dir, 'x'), '--redact', '(']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--redact "\(": not a regular expression/);
    const none = await mitm(['mocks', 'export', '--out', join(temp.dir, 'x')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give one of --store FILE or --har FILE/);
    const sub = await mitm(['mocks', 'import']);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /unknown subcommand "import" of mitm mocks/);
    const missing = await mitm(['mocks', 'export', '--store', join(temp.dir, 'nope.db'), '--out', join(temp.dir, 'x')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no store at .*nope\.db/);
  });
});
