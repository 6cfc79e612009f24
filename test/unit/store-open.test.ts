import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isMitmError, type ErrorCode } from '../../src/errors.js';
import { type Database, type DatabaseConstructor, loadDriver } from '../../src/record/store/driver.js';
import { applyMigrations } from '../../src/record/store/migrations.js';
import { openStore } from '../../src/record/store/open-store.js';
import { MIGRATIONS } from '../../src/record/store/schema.js';
import { makeFlow, tempDir } from '../helpers/store-flows.js';

/** Asserts a MitmError with `code` whose message contains every one of `parts`. */
function failsWith(code: ErrorCode, ...parts: string[]): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(isMitmError(error), `not a MitmError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const part of parts) assert.ok(error.message.includes(part), `${JSON.stringify(error.message)} lacks ${JSON.stringify(part)}`);
    return true;
  };
}

describe('store: opening, refusing, migrating', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    temp = await tempDir('mitm-store-open-');
  });
  after(async () => {
    await temp.remove();
  });

  it('creates a WAL store at the newest schema version, every migration recorded', async () => {
    const file = join(temp.dir, 'new.db');
    await (await openStore(file)).close();
    const Database = await loadDriver();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), 4);
      assert.equal(db.pragma('application_id', { simple: true }), 0x6d69746d);
      assert.deepEqual(db.prepare('SELECT version, description FROM schema_migrations').all(), [
        { version: 1, description: 'the schema' },
        { version: 2, description: 'TLS facts of both sides' },
        { version: 3, description: 'a body text that is its raw bytes kept once' },
        { version: 4, description: 'no indexes on flows but its id' },
      ]);
      assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'flows'").pluck().all(), []);
    } finally {
      db.close();
    }
  });

  it('refuses a store of a newer schema, naming the file, and leaves it untouched', async () => {
    const file = join(temp.dir, 'newer.db');
    await (await openStore(file)).close();
    const Database = await loadDriver();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    await assert.rejects(openStore(file), failsWith('store_invalid', file, 'newer mitm', 'schema version 99'));
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), 99);
    check.close();
  });

  it('refuses a text file and a SQLite database of something else, naming the file', async () => {
    const text = join(temp.dir, 'notes.txt');
    await writeFile(text, 'these are not the flows you are looking for\n'.repeat(100));
    await assert.rejects(openStore(text), failsWith('store_invalid', text, 'not an SQLite database'));

    const other = join(temp.dir, 'other.db');
    const Database = await loadDriver();
    const db = new Database(other);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
    db.close();
    await assert.rejects(openStore(other), failsWith('store_invalid', other, 'not a mitm store', 'customers'));
  });

  it('says what is wrong with a bad path: a folder, a missing folder, a file as folder', async () => {
    const folder = join(temp.dir, 'a-folder');
    await mkdir(folder);
    await assert.rejects(openStore(folder), failsWith('store_failed', folder, 'is a folder'));
    const missing = join(temp.dir, 'no-such-folder', 'flows.db');
    await assert.rejects(openStore(missing), failsWith('store_failed', missing, 'does not exist'));
    const plain = join(temp.dir, 'plain-file');
    await writeFile(plain, 'x');
    await assert.rejects(openStore(join(plain, 'flows.db')), failsWith('store_failed', join(plain, 'flows.db'), 'is not a folder'));
    await assert.rejects(openStore(join(temp.dir, 'absent.db'), { readonly: true }), failsWith('store_failed', 'absent.db'));
  });

  it('says when the folder or the file is not writable', {
    skip: process.getuid?.() === 0 ? 'root may write anywhere' : false,
  }, async () => {
    const locked = join(temp.dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    try {
      await assert.rejects(openStore(join(locked, 'flows.db')), failsWith('store_failed', locked, 'not writable'));
    } finally {
      await chmod(locked, 0o700);
    }
    const file = join(temp.dir, 'readonly-file.db');
    await (await openStore(file)).close();
    await chmod(file, 0o400);
    await assert.rejects(openStore(file), failsWith('store_failed', file, 'not readable and writable'));
  });

  it('migrates an older schema, one recorded step at a time, keeping its flows', async () => {
    const file = join(temp.dir, 'older.db');
    const store = await openStore(file);
    store.append(makeFlow({ id: 1, responseBody: 'kept' }));
    await store.close();
    const Database = await loadDriver();
    const db = new Database(file);
    try {
      const version = MIGRATIONS.length + 1;
      const next = [...MIGRATIONS, { version, description: 'a note per flow', sql: 'ALTER TABLE flows ADD COLUMN note TEXT' }];
      assert.deepEqual(applyMigrations(db, file, next), [version]);
      assert.deepEqual(applyMigrations(db, file, next), []);
      assert.equal(db.pragma('user_version', { simple: true }), version);
      assert.deepEqual(
        db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(),
        next.map((migration) => migration.version),
      );
      assert.equal(db.prepare('SELECT count(*) FROM flows WHERE note IS NULL').pluck().get(), 1);
    } finally {
      db.close();
    }
  });

  it('migrates a new file in one transaction: a failing step leaves it empty, never at a version in between', async () => {
    const file = join(temp.dir, 'half-way.db');
    const Database = await loadDriver();
    const db = new Database(file);
    try {
      const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, description: 'broken', sql: 'ALTER TABLE nowhere ADD COLUMN x' }];
      assert.throws(() => applyMigrations(db, file, broken), /no such table: nowhere/);
      assert.equal(db.pragma('user_version', { simple: true }), 0);
      assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get(), 0);
      assert.deepEqual(
        applyMigrations(db, file, MIGRATIONS),
        MIGRATIONS.map((migration) => migration.version),
      );
    } finally {
      db.close();
    }
  });

  it('migration 4 drops the flows indexes of a version-3 store, whose flows read and filter as before', async () => {
    const file = join(temp.dir, 'version-3.db');
    const Database = await loadDriver();
    const db = new Database(file);
    applyMigrations(db, file, MIGRATIONS.slice(0, 3));
    const indexes = (on: typeof db): unknown[] =>
      on.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'flows_%' ORDER BY name").pluck().all();
    assert.deepEqual(indexes(db), ['flows_host', 'flows_started_at', 'flows_status', 'flows_tls_sni']);
    db.close();
    const writing = await openStore(file);
    writing.append(makeFlow({ id: 1, url: 'https://a.test/x', status: 200, responseBody: 'one' }));
    writing.append(makeFlow({ id: 2, url: 'https://b.test/y', status: 404, responseBody: 'two' }));
    await writing.close();
    const check = new Database(file, { readonly: true });
    try {
      assert.equal(check.pragma('user_version', { simple: true }), 4);
      assert.deepEqual(indexes(check), []);
    } finally {
      check.close();
    }
    const reading = await openStore(file, { readonly: true });
    try {
      assert.deepEqual(
        reading.query('host:b.test').map((flow) => [flow.url, flow.status]),
        [['https://b.test/y', 404]],
      );
      assert.equal(reading.query('status:200')[0]?.responseBody?.raw.toString(), 'one');
    } finally {
      await reading.close();
    }
  });

  it("migration 2 carries a version-1 store's tls column into the TLS columns, and openStore reads its flows", async () => {
    const file = join(temp.dir, 'version-1.db');
    const Database = await loadDriver();
    const db = new Database(file);
    applyMigrations(db, file, MIGRATIONS.slice(0, 1));
    const legacy = { sni: 'old.test', alpn: 'h2', chainFingerprints: ['AA:BB', 'CC:DD'], issuer: 'Old CA' };
    const columns =
      'proxy_flow_id, started_at, method, url, host, path, request_http_version, request_headers, timings, incomplete, synthetic, tags, client_address, client_port, connection_id, tls, is_websocket, is_sse, ws_omitted';
    db.prepare(
      `INSERT INTO flows (${columns}) VALUES (1, 0, 'GET', 'https://old.test/', 'old.test', '/', '1.1', '[]', '{"start":0}', 0, 0, '[]', '', 0, 1, ?, 0, 0, 0)`,
    ).run(JSON.stringify(legacy));
    db.close();

    const store = await openStore(file);
    try {
      const [flow] = store.query();
      assert.equal(flow?.url, 'https://old.test/');
      assert.equal(flow?.tls, undefined, 'the old shape holds too little for flow.tls');
    } finally {
      await store.close();
    }
    const check = new Database(file, { readonly: true });
    try {
      assert.equal(check.pragma('user_version', { simple: true }), MIGRATIONS.length);
      assert.deepEqual(check.prepare('SELECT tls_sni, origin_cert_issuer, origin_cert_sha256 FROM flows').get(), {
        tls_sni: 'old.test',
        origin_cert_issuer: 'Old CA',
        origin_cert_sha256: 'AA:BB',
      });
      const names = check.prepare("SELECT name FROM pragma_table_info('flows')").pluck().all();
      assert.ok(!names.includes('tls') && names.includes('client_tls') && names.includes('origin_tls'), names.join(', '));
    } finally {
      check.close();
    }
  });

  it("migration 3 keeps a version-2 store's body texts (their copies stay) and reads them as before", async () => {
    const file = join(temp.dir, 'version-2.db');
    const Database = await loadDriver();
    const db = versionTwoStore(Database, file, 'https://old.test/');
    db.prepare(
      "INSERT INTO bodies (flow_id, side, raw, content_encoding, text, cut, full_length) VALUES (1, 'response', ?, NULL, ?, 0, 2)",
    ).run(Buffer.from('{}'), '{}');
    db.close();
    const store = await openStore(file);
    try {
      assert.equal(store.query()[0]?.responseBody?.text, '{}');
      assert.equal(store.query('res:{}').length, 1);
    } finally {
      await store.close();
    }
  });

  it('an older store opened for reading is migrated first, and its flows read as they were written', async () => {
    const file = join(temp.dir, 'older-read.db');
    const Database = await loadDriver();
    const db = versionTwoStore(Database, file, 'https://kept.test/a');
    db.close();

    const reading = await openStore(file, { readonly: true });
    try {
      assert.deepEqual(
        reading.query('host:kept.test').map((flow) => flow.url),
        ['https://kept.test/a'],
      );
    } finally {
      await reading.close();
    }
    const check = new Database(file, { readonly: true });
    try {
      assert.equal(check.pragma('user_version', { simple: true }), MIGRATIONS.length);
    } finally {
      check.close();
    }
  });

  it('an older store that is not writable is refused for reading, saying why', {
    skip: process.getuid?.() === 0 ? 'root may write anywhere' : false,
  }, async () => {
    const file = join(temp.dir, 'older-locked.db');
    const Database = await loadDriver();
    const db = new Database(file);
    applyMigrations(db, file, MIGRATIONS.slice(0, 3));
    db.close();
    await chmod(file, 0o400);
    await assert.rejects(openStore(file, { readonly: true }), failsWith('store_invalid', file, 'schema version 3', 'not writable'));
  });

  it('without a loadable better-sqlite3, everything else imports and openStore says why and how to fix', async () => {
    // A resolve hook that makes `better-sqlite3` fail to load, as on a machine where it did not build.
    const hooks = `export async function resolve(specifier, context, next) {
      if (specifier === 'better-sqlite3') throw new Error('Cannot find module better-sqlite3 (simulated)');
      return next(specifier, context);
    }`;
    const hooksFile = join(temp.dir, 'no-sqlite-hooks.mjs');
    const registerFile = join(temp.dir, 'no-sqlite.mjs');
    await writeFile(hooksFile, hooks);
    await writeFile(registerFile, `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooksFile).href)});`);
    const script = `
      const { startProxy } = await import('./src/index.ts');
      const { openStore } = await import('./src/record/store/open-store.ts');
      if (typeof startProxy !== 'function') throw new Error('index did not load');
      try { await openStore('unused.db'); console.log('opened'); }
      catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); }`;
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(registerFile).href, '--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: new URL('../..', import.meta.url).pathname,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, err);
    const result = JSON.parse(out.trim()) as { code: string; message: string };
    assert.equal(result.code, 'store_unavailable');
    assert.match(result.message, /better-sqlite3.*simulated.*npm rebuild better-sqlite3.*python3, make and g\+\+/);
  });
});

/** A store file at schema version 2 holding one flow (id 1, a GET of `url`), left open for more rows. */
function versionTwoStore(Database: DatabaseConstructor, file: string, url: string): Database {
  const db = new Database(file);
  applyMigrations(db, file, MIGRATIONS.slice(0, 2));
  const { host, pathname } = new URL(url);
  const columns =
    'proxy_flow_id, started_at, method, url, host, path, request_http_version, request_headers, timings, incomplete, synthetic, tags, client_address, client_port, connection_id, is_websocket, is_sse, ws_omitted';
  db.prepare(`INSERT INTO flows (${columns}) VALUES (1, 0, 'GET', ?, ?, ?, '1.1', '[]', '{"start":0}', 0, 0, '[]', '', 0, 1, 0, 0, 0)`).run(
    url,
    host,
    pathname,
  );
  return db;
}
