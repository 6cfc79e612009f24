import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as z from 'zod/mini';
import { numberRange, parseWith } from '../config/load.js';
import { isMitmError } from '../errors.js';

/** A mistake on the command line: the CLI exits with 2 and points at `--help`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One command-line flag, derived from one key of a zod object schema. */
export interface FlagSpec {
  /** The schema key, camelCase (`upstreamCa`). */
  readonly key: string;
  /** The flag as typed, kebab-case (`--upstream-ca`). */
  readonly flag: string;
  /** `array` flags are repeatable and collect strings. */
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'array';
  /** Names the value in `--help` (`--port N`); undefined for booleans. */
  readonly arg: string | undefined;
  readonly description: string;
  /** The schema default, shown in `--help`; undefined when there is none. */
  readonly defaultValue: unknown;
  readonly choices: readonly string[] | undefined;
  /** True when the schema has neither a default nor `.optional()`. */
  readonly required: boolean;
}

const HELP_LINE = { flag: '-h, --help', text: 'Show this help' };

/** Turns a schema key into its flag: `upstreamCa` → `--upstream-ca`. */
export function keyToFlag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Turns a flag back into its schema key: `--upstream-ca` → `upstreamCa`. */
export function flagToKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** Lists the flags of a flat zod object schema, in declaration order, read from each key's schema. */
export function describeFlags(schema: z.core.$ZodObject): FlagSpec[] {
  return Object.entries(schema._zod.def.shape).map(([key, field]) => {
    if (key === 'help') throw new Error('an option schema must not declare "help": the CLI reserves --help');
    const { type, meta, defaultValue, required, choices } = readField(field);
    if (type === undefined) throw new Error(`option ${key}: unsupported schema type`);
    const isBoolean = type === 'boolean';
    return {
      key,
      flag: keyToFlag(key),
      type,
      arg: isBoolean ? undefined : (stringMeta(meta.arg) ?? choices?.join('|') ?? 'VALUE'),
      description: stringMeta(meta.description) ?? '',
      defaultValue,
      choices,
      required,
    };
  });
}

/** The zod def fields `readField` looks at (zod's own def types are a union too wide to narrow here). */
interface FieldDef {
  readonly type: string;
  readonly innerType?: z.core.$ZodType;
  readonly in?: z.core.$ZodType;
  readonly element?: z.core.$ZodType;
  readonly options?: readonly z.core.$ZodType[];
  readonly entries?: Readonly<Record<string, string>>;
  readonly defaultValue?: unknown;
}

/**
 * What a flag needs of one option's schema, unwrapping `default`, `prefault`, `optional` and a
 * transform's input: the flag type (a union that takes text is text: the size options), the
 * metadata (`arg`, `description`; outer wrappers win), the input default and the enum choices.
 * Read from the schema's definition rather than through z.toJSONSchema, which cost start-up
 * ~20 ms per start on a loaded machine (docs/performance.md, "Start-up"); cli-flags.test.ts checks both agree.
 */
function readField(field: z.core.$ZodType): {
  type: FlagSpec['type'] | undefined;
  meta: Record<string, unknown>;
  defaultValue: unknown;
  required: boolean;
  choices: string[] | undefined;
} {
  let meta: Record<string, unknown> = {};
  let defaultValue: unknown;
  let required = true;
  let current: z.core.$ZodType | undefined = field;
  while (current !== undefined) {
    meta = { ...(z.globalRegistry.get(current) ?? {}), ...meta };
    const def = current._zod.def as unknown as FieldDef;
    switch (def.type) {
      case 'default':
      case 'prefault':
        if (required) defaultValue = def.defaultValue;
        required = false;
        current = def.innerType;
        continue;
      case 'optional':
        required = false;
        current = def.innerType;
        continue;
      case 'pipe':
        current = def.in;
        continue;
      case 'string':
      case 'boolean':
        return { type: def.type, meta, defaultValue, required, choices: undefined };
      case 'number': {
        return { type: numberRange(current).integer ? 'integer' : 'number', meta, defaultValue, required, choices: undefined };
      }
      case 'enum':
        return { type: 'string', meta, defaultValue, required, choices: Object.values(def.entries ?? {}) };
      case 'array':
        return { type: def.element?._zod.def.type === 'string' ? 'array' : undefined, meta, defaultValue, required, choices: undefined };
      case 'union':
        return {
          type: def.options?.some((option) => option._zod.def.type === 'string') ? 'string' : undefined,
          meta,
          defaultValue,
          required,
          choices: undefined,
        };
      default:
        return { type: undefined, meta, defaultValue, required, choices: undefined };
    }
  }
  return { type: undefined, meta, defaultValue, required, choices: undefined };
}

/** A metadata value when it is text. */
function stringMeta(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Builds the `node:util` parseArgs option table for these flags (plus `-h, --help`). */
export function toParseArgsOptions(specs: readonly FlagSpec[]): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const spec of specs) {
    options[spec.flag.slice(2)] = spec.type === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: spec.type === 'array' };
  }
  return options;
}

/** The outcome of parsing a command's flags: either a request for help or validated options. */
export type ParsedFlags<T> = { readonly help: true } | { readonly help: false; readonly options: T };

/**
 * Parses `argv` against the flags of `schema` and validates the result with the same schema, so
 * defaults live only there. Throws `UsageError` naming the offending flag.
 */
export function parseFlags<S extends z.core.$ZodObject>(schema: S, argv: readonly string[]): ParsedFlags<Readonly<z.output<S>>> {
  const specs = describeFlags(schema);
  const byName = new Map(specs.map((spec) => [spec.flag.slice(2), spec]));
  // strict: false hands us every token, so the messages below are ours and name the flag plainly.
  const { tokens } = parseArgs({
    args: [...argv],
    options: toParseArgsOptions(specs),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  // Help wins over any other mistake on the line: someone typing --help wants to read, not be told off.
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) return { help: true };

  const input: Record<string, unknown> = {};
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') throw new UsageError(`unexpected argument ${JSON.stringify(token.value)}`);
    const negated = token.name.startsWith('no-') ? byName.get(token.name.slice(3)) : undefined;
    if (negated?.type === 'boolean' && token.value === undefined) {
      // --no-FLAG turns off a boolean whose default is on (e.g. --auto-passthrough in `mitm run`).
      input[negated.key] = false;
      continue;
    }
    const spec = byName.get(token.name);
    if (spec === undefined) throw new UsageError(`unknown option ${token.rawName}`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${spec.flag}: takes no value`);
      input[spec.key] = true;
      continue;
    }
    const value = readValue(spec, token.value, token.inlineValue === true);
    if (spec.type === 'array') {
      const previous = input[spec.key];
      input[spec.key] = Array.isArray(previous) ? [...previous, value] : [value];
    } else {
      input[spec.key] = value; // the last occurrence wins, so a wrapper script's default can be overridden
    }
  }
  for (const spec of specs) {
    if (spec.required && !(spec.key in input)) throw new UsageError(`missing ${spec.flag} ${spec.arg ?? ''}`.trimEnd());
  }
  try {
    return { help: false, options: parseWith(schema, input, keyToFlag) };
  } catch (error) {
    if (isMitmError(error) && error.code === 'config_invalid') throw new UsageError(error.message);
    throw error;
  }
}

const INTEGER = /^-?\d+$/;
// Plain decimals only: '1e3', '0x10', 'Infinity' and '' are more likely typos than intent.
const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** Checks and converts the raw text of one flag's value. */
function readValue(spec: FlagSpec, value: string | undefined, inline: boolean): string | number {
  const expected = spec.arg === undefined ? '' : ` (${spec.arg})`;
  if (value === undefined) throw new UsageError(`${spec.flag}: missing value${expected}`);
  // parseArgs takes the next word as the value even when it is another flag (`--port --quiet`);
  // other words with a leading '-' are values (`--log-filter -host:*.ads.test`, `--port -1`).
  if (!inline && /^--?[a-z][a-z0-9-]*$/i.test(value)) {
    throw new UsageError(`${spec.flag}: missing value${expected}; write ${spec.flag}=${value} if that is the value`);
  }
  if (spec.type === 'integer' && !INTEGER.test(value)) {
    throw new UsageError(`${spec.flag}: expected an integer, got ${JSON.stringify(value)}`);
  }
  if (spec.type === 'number' && !DECIMAL.test(value)) {
    throw new UsageError(`${spec.flag}: expected a number, got ${JSON.stringify(value)}`);
  }
  return spec.type === 'integer' || spec.type === 'number' ? Number(value) : value;
}

/** Renders the `Options:` lines of `--help`: one aligned line per flag with its default and choices. */
export function formatOptions(specs: readonly FlagSpec[]): string {
  const rows = specs.map((spec) => ({
    flag: spec.arg === undefined ? spec.flag : `${spec.flag} ${spec.arg}`,
    text: [spec.description, notes(spec)].filter((part) => part !== '').join(' '),
  }));
  rows.push(HELP_LINE);
  const width = Math.max(...rows.map((row) => row.flag.length));
  // One line per flag, never wrapped, so `mitm start --help | grep port` finds the whole entry.
  return rows.map((row) => `  ${row.flag.padEnd(width)}  ${row.text}`).join('\n');
}

/** The parenthesised notes after a flag's description: required, repeatable, choices, default. */
function notes(spec: FlagSpec): string {
  const parts: string[] = [];
  if (spec.required) parts.push('required');
  if (spec.type === 'array' && !/repeatable/i.test(spec.description)) parts.push('repeatable');
  if (spec.choices !== undefined) parts.push(`one of: ${spec.choices.join(', ')}`);
  const shown = showDefault(spec.defaultValue);
  if (shown !== undefined) parts.push(`default: ${shown}`);
  return parts.length === 0 ? '' : `(${parts.join('; ')})`;
}

/** The default as a user would type it, or undefined when it goes without saying (false, []). */
function showDefault(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (Array.isArray(value) && value.length > 0) return value.map(String).join(', ');
  return undefined;
}

/** Renders a whole `--help` page for a command whose flags come from `schema`. */
export function formatHelp(usage: string, summary: string, schema: z.core.$ZodObject): string {
  return `Usage: ${usage}\n\n${summary}\n\nOptions:\n${formatOptions(describeFlags(schema))}\n`;
}
