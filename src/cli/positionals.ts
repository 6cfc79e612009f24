import type * as z from 'zod/mini';
import { describeFlags } from './flags.js';

/**
 * Splits `argv` into the flags of `schema` (with their values) and the positional words, for
 * commands that take a filter: `mitm flows --store f.db status:5xx host:api.test`. Everything
 * after `--` is positional, so a filter may start with `-` (`-- -status:2xx`).
 */
export function splitPositionals(schema: z.core.$ZodObject, argv: readonly string[]): { flags: string[]; positionals: string[] } {
  const valued = new Set(
    describeFlags(schema)
      .filter((spec) => spec.type !== 'boolean')
      .map((spec) => spec.flag),
  );
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i] as string;
    if (word === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      positionals.push(word);
      continue;
    }
    flags.push(word);
    if (valued.has(word) && i + 1 < argv.length) flags.push(argv[++i] as string);
  }
  return { flags, positionals };
}
