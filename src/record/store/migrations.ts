import { MitmError } from '../../errors.js';
import type { Database } from './driver.js';
import { APPLICATION_ID, type Migration } from './schema.js';

/** What a file holds before it is touched: its schema version, and whether it is empty. */
export interface Identity {
  readonly version: number;
  readonly fresh: boolean;
}

/**
 * Reads a file's identity without writing to it, and refuses one that is not ours (another
 * application's database, tables but no version) or from a newer schema than `migrations` know.
 */
export function identify(db: Database, path: string, migrations: readonly Migration[]): Identity {
  const version = Number(db.pragma('user_version', { simple: true }));
  const applicationId = Number(db.pragma('application_id', { simple: true }));
  const tables = db
    .prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all();
  if (version === 0 && tables.length === 0 && (applicationId === 0 || applicationId === APPLICATION_ID)) {
    return { version: 0, fresh: true };
  }
  if (applicationId !== APPLICATION_ID) {
    const listed = tables.length > 5 ? `${tables.slice(0, 5).join(', ')}…` : tables.join(', ');
    throw new MitmError(
      'store_invalid',
      `${path} is not a mitm store: it is an SQLite database of something else (tables: ${listed || 'none'})`,
    );
  }
  const newest = migrations[migrations.length - 1]?.version ?? 0;
  if (version > newest) {
    throw new MitmError(
      'store_invalid',
      `the store ${path} was written by a newer mitm (schema version ${version}; this one knows up to ${newest}): upgrade mitm, or use another file`,
    );
  }
  return { version, fresh: false };
}

/**
 * Brings the schema up to the last migration in one write transaction, so a reader (`mitm tail`) sees the
 * file either empty or at the newest version, never half-way; returns the versions applied.
 */
export function applyMigrations(db: Database, path: string, migrations: readonly Migration[]): number[] {
  const applied: number[] = [];
  // IMMEDIATE takes the write lock first, so two processes opening one new file migrate it once.
  db.transaction(() => {
    for (const migration of migrations) {
      const current = Number(db.pragma('user_version', { simple: true }));
      if (current >= migration.version) continue;
      if (current !== migration.version - 1) {
        throw new MitmError('store_invalid', `the store ${path} has schema version ${current}, which no migration leads on from`);
      }
      if (current === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.description,
        new Date().toISOString(),
      );
      db.pragma(`user_version = ${migration.version}`);
      applied.push(migration.version);
    }
  }).immediate();
  return applied;
}
