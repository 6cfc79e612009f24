import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Creator } from 'har-format';

let creator: Creator | undefined;

/** The HAR `creator`: this package's name and version, read from package.json once. */
export function harCreator(): Creator {
  // package.json is two levels up from both src/record/ and dist/record/.
  creator ??= z
    .object({ name: z.string(), version: z.string() })
    .parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')));
  return { name: creator.name, version: creator.version };
}
