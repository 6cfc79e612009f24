import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { MitmError } from '../errors.js';
import type { Har } from './har-types.js';

// Entries are serialised one by one and written in batches of about this size, so a large HAR
// never exists as one giant string.
const BATCH_CHARS = 1024 * 1024;

/**
 * Writes `har` to `file` atomically: into a temp file in the same folder, which is then renamed
 * over `file`, so a reader (or a crash) never sees half a HAR. The file is readable by its owner
 * only, since a HAR holds cookies and tokens. Throws `har_write_failed`.
 */
export async function writeHarFile(file: string, har: Har): Promise<void> {
  const target = path.resolve(file);
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', 0o600);
    await writeJson(handle, har);
    // Durable before it becomes visible: a rename of unsynced data can leave an empty file after a power loss.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw writeFailed(file, error);
  }
}

/** Checks up front that `file` can be written (its folder exists, it is not a folder), so a long run does not end in a lost HAR. */
export async function assertHarWritable(file: string): Promise<void> {
  const target = path.resolve(file);
  try {
    const folder = await stat(path.dirname(target));
    if (!folder.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    const existing = await stat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
  } catch (error) {
    throw writeFailed(file, error);
  }
}

async function writeJson(handle: FileHandle, har: Har): Promise<void> {
  const { entries, ...head } = har.log;
  // `{"log":{…head…,"entries":[` then one entry per line, so the file also diffs and greps well.
  let batch = `{"log":${JSON.stringify(head).slice(0, -1)},"entries":[`;
  for (const [index, entry] of entries.entries()) {
    batch += `${index === 0 ? '\n' : ',\n'}${JSON.stringify(entry)}`;
    if (batch.length >= BATCH_CHARS) {
      await handle.write(batch);
      batch = '';
    }
  }
  await handle.write(`${batch}\n]}}\n`);
}

function writeFailed(file: string, error: unknown): MitmError {
  const folder = path.dirname(path.resolve(file));
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT'
      ? `the folder ${folder} does not exist`
      : code === 'ENOTDIR'
        ? `${folder} is not a folder`
        : code === 'EISDIR'
          ? `${file} is a folder`
          : code === 'EACCES' || code === 'EPERM'
            ? `permission denied in ${folder}`
            : code === 'ENOSPC'
              ? 'the disk is full'
              : error instanceof Error
                ? error.message
                : String(error);
  return new MitmError('har_write_failed', `cannot write the HAR to ${file}: ${reason}`, { cause: error });
}
