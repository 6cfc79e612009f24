import type BetterSqlite3 from 'better-sqlite3';
import { MitmError } from '../../errors.js';

/** The better-sqlite3 constructor. */
export type DatabaseConstructor = typeof BetterSqlite3;
/** One open SQLite connection. */
export type Database = BetterSqlite3.Database;

let loading: Promise<DatabaseConstructor> | undefined;

/**
 * Loads better-sqlite3 on first use. It is an optional dependency with a native module, so a
 * machine where it could not be built still runs everything else; only opening a store fails.
 */
export function loadDriver(): Promise<DatabaseConstructor> {
  loading ??= import('better-sqlite3')
    .then(
      (module: { default: DatabaseConstructor }) => {
        const Database = module.default;
        // Loading the JS does not load the native addon: a throwaway in-memory database does.
        new Database(':memory:').close();
        return Database;
      },
      (error: unknown) => {
        throw unavailable(error);
      },
    )
    .catch((error: unknown) => {
      loading = undefined;
      throw error instanceof MitmError ? error : unavailable(error);
    });
  return loading;
}

function unavailable(error: unknown): MitmError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new MitmError(
    'store_unavailable',
    `the flow store needs the SQLite driver better-sqlite3, which could not be loaded (${reason}); ` +
      'run `npm rebuild better-sqlite3` (building it needs python3, make and g++), or run without a store',
    { cause: error },
  );
}
