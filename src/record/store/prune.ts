import type { Database } from './driver.js';

/** Bytes the database's pages hold, free pages left out (the main file, not its -wal). */
export function usedBytes(db: Database): number {
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const pages = Number(db.pragma('page_count', { simple: true }));
  const free = Number(db.pragma('freelist_count', { simple: true }));
  return (pages - free) * pageSize;
}

/**
 * Deletes the oldest flows (with their bodies and messages) until the database holds at most
 * `maxSize` bytes, aiming at 90 % so that not every batch prunes again; returns how many went.
 */
export function pruneToSize(db: Database, maxSize: number): number {
  let pruned = 0;
  const count = db.prepare<[], number>('SELECT count(*) FROM flows').pluck();
  const deleteOldest = db.prepare('DELETE FROM flows WHERE id IN (SELECT id FROM flows ORDER BY id LIMIT ?)');
  for (let round = 0; round < 32; round += 1) {
    const used = usedBytes(db);
    if (used <= maxSize) break;
    const flows = count.get() ?? 0;
    if (flows === 0) break;
    // Flows differ in size, so this is an estimate; the loop measures again after each delete.
    const share = (used - maxSize * 0.9) / used;
    const n = Math.min(flows, Math.max(1, Math.ceil(flows * share)));
    pruned += db.transaction(() => deleteOldest.run(n).changes)();
  }
  // Gives the freed pages back to the file system (auto_vacuum = INCREMENTAL).
  if (pruned > 0) db.pragma('incremental_vacuum');
  return pruned;
}
