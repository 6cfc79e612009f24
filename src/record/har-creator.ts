import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import type { Creator } from 'har-format';
import { packageJsonPath } from '../package-files.js';

let creator: Creator | undefined;

/** The HAR `creator`: this package's name and version, read from package.json once. */
export function harCreator(): Creator {
  creator ??= z.parse(z.object({ name: z.string(), version: z.string() }), JSON.parse(readFileSync(packageJsonPath(), 'utf8')));
  return { name: creator.name, version: creator.version };
}
