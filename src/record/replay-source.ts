import { open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MitmError } from '../errors.js';
import { harEntryRows } from './har-import.js';
import { HarInput } from './har-input.js';
import { openStore } from './store/open-store.js';
import { storedFromRows } from './store/stored-from-rows.js';
import type { StoredFlow } from './store/types.js';

// Every SQLite database file starts with these 16 bytes (sqlite.org/fileformat.html §1.3.1).
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Every flow recorded in `file`, in recorded order: a store (`--store`, opened read-only and
 * closed again) or a HAR file (ours, Chrome DevTools, Firefox, mitmproxy), told apart by their
 * first bytes. Throws `config_invalid` starting with the file's name when it is missing, a folder,
 * unreadable or neither (a store's own error when it is a store that cannot be read).
 */
export async function readRecording(file: string): Promise<StoredFlow[]> {
  const path = resolve(file);
  const head = await firstBytes(file, path, SQLITE_MAGIC.length);
  if (head.equals(SQLITE_MAGIC)) {
    const store = await openStore(path, { readonly: true });
    try {
      return store.query();
    } finally {
      await store.close();
    }
  }
  let parsed: ReturnType<typeof HarInput.parse>;
  try {
    parsed = HarInput.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    const reason = error instanceof SyntaxError ? `not JSON (${error.message})` : 'no log.entries list of requests';
    throw new MitmError('config_invalid', `${file}: not a HAR file or a mitm store: ${reason}`, { cause: error });
  }
  return parsed.log.entries.map((entry, index) => storedFromRows(harEntryRows(entry, entry._id ?? index + 1), index + 1));
}

async function firstBytes(file: string, path: string, length: number): Promise<Buffer> {
  try {
    const handle = await open(path, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'a folder, not a HAR or store file'
          : code === 'EACCES'
            ? 'not readable'
            : (error as Error).message;
    throw new MitmError('config_invalid', `${file}: ${reason}`, { cause: error });
  }
}
