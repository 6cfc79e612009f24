import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MitmError } from '../../errors.js';
import type { Database, DatabaseConstructor } from './driver.js';
import { applyMigrations, identify } from './migrations.js';
import { MIGRATIONS } from './schema.js';

/**
 * Opens (creating when missing) the SQLite file of a store, checks it is one of ours, migrates an
 * older schema (one opened `readonly` is migrated first, then opened again with `migrated` set) and
 * switches it to WAL. Every failure is a MitmError naming the file.
 */
export async function openDatabase(Driver: DatabaseConstructor, file: string, readonly: boolean, migrated = false): Promise<Database> {
  const path = resolve(file);
  await checkPath(path, readonly);
  let db: Database;
  try {
    db = new Driver(path, { readonly, fileMustExist: readonly, timeout: 5000 });
  } catch (error) {
    throw new MitmError('store_failed', `cannot open the store ${path}: ${reason(error)}`, { cause: error });
  }
  try {
    const found = identify(db, path, MIGRATIONS);
    if (readonly) {
      if (found.fresh) throw new EmptyStoreError(path);
      if (found.version < latest()) {
        if (migrated)
          throw new MitmError('store_invalid', `the store ${path} is still at schema version ${found.version} after migrating it`);
        db.close();
        await migrateBeforeReading(Driver, path, found.version);
        return await openDatabase(Driver, path, true, true);
      }
    } else {
      if (found.fresh) db.pragma('auto_vacuum = INCREMENTAL');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new MitmError('store_failed', `the store ${path} cannot use WAL mode (journal_mode is ${String(mode)})`);
      db.pragma('synchronous = NORMAL');
      applyMigrations(db, path, MIGRATIONS);
    }
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    if (error instanceof MitmError) throw error;
    if ((error as { code?: unknown }).code === 'SQLITE_NOTADB') {
      throw new MitmError('store_invalid', `${path} is not a mitm store: it is not an SQLite database`, { cause: error });
    }
    throw new MitmError('store_failed', `cannot open the store ${path}: ${reason(error)}`, { cause: error });
  }
}

/** A store file that exists but holds nothing yet (a proxy is creating it), opened read-only; `mitm tail` waits on it. */
export class EmptyStoreError extends MitmError {
  constructor(path: string) {
    super('store_failed', `the store ${path} is empty: no proxy has written to it yet`);
  }
}

/**
 * An older store asked for reading (`mitm flows`, `mitm tail`, `mitm ui`) is migrated first, as `mitm start
 * --store` would, so a session kept from an earlier mitm reads the same; one that cannot be written says so.
 */
async function migrateBeforeReading(Driver: DatabaseConstructor, path: string, version: number): Promise<void> {
  // The folder too: SQLite writes its -wal and -shm files next to the store.
  const writable = await Promise.all([access(path, constants.W_OK), access(dirname(path), constants.W_OK)]).then(
    () => true,
    () => false,
  );
  if (!writable) {
    throw new MitmError(
      'store_invalid',
      `the store ${path} has schema version ${version} and must be migrated to ${latest()} before it can be read, but it (or its folder) is not writable: make it writable, or open a copy`,
    );
  }
  (await openDatabase(Driver, path, false)).close();
}

function latest(): number {
  return MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
}

/** Says in words what is wrong with a path before SQLite says "unable to open database file". */
async function checkPath(path: string, readonly: boolean): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (!(info instanceof Error)) {
    if (info.isDirectory())
      throw new MitmError('store_failed', `cannot use ${path} as a store: it is a folder; name a file in it, e.g. ${path}/flows.db`);
    const mode = readonly ? constants.R_OK : constants.R_OK | constants.W_OK;
    await access(path, mode).catch((error: unknown) => {
      throw new MitmError('store_failed', `cannot open the store ${path}: it is not ${readonly ? 'readable' : 'readable and writable'}`, {
        cause: error,
      });
    });
    return;
  }
  if (info.code !== 'ENOENT' && info.code !== 'ENOTDIR')
    throw new MitmError('store_failed', `cannot open the store ${path}: ${info.message}`, { cause: info });
  if (readonly) throw new MitmError('store_failed', `there is no store ${path}`, { cause: info });
  const folder = dirname(path);
  const parent = await stat(folder).catch((error: NodeJS.ErrnoException) => error);
  if (parent instanceof Error) {
    const why = parent.code === 'ENOENT' || parent.code === 'ENOTDIR' ? 'does not exist' : parent.message;
    throw new MitmError('store_failed', `cannot create the store ${path}: the folder ${folder} ${why}`, { cause: parent });
  }
  if (!parent.isDirectory()) throw new MitmError('store_failed', `cannot create the store ${path}: ${folder} is not a folder`);
  await access(folder, constants.W_OK).catch((error: unknown) => {
    throw new MitmError('store_failed', `cannot create the store ${path}: the folder ${folder} is not writable`, { cause: error });
  });
}

/** SQLite's or Node's reason, one line. */
export function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
