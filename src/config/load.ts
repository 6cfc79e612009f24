import * as z from 'zod/mini';
import english from 'zod/v4/locales/en.js';
import { MitmError } from '../errors.js';
import { ProxyOptionsSchema, type ProxyConfig } from './schema.js';

/**
 * Validates `input` against `schema` and returns a deeply frozen copy with defaults filled in.
 * A bad value becomes a `config_invalid` error whose message names the option, via `nameOf`
 * (the CLI passes a function that turns `upstreamCa` into `--upstream-ca`).
 */
export function parseWith<S extends z.core.$ZodType>(
  schema: S,
  input: unknown,
  nameOf: (key: string) => string = (key) => key,
): Readonly<z.output<S>> {
  const given = listsFromStrings(schema, input ?? {});
  // jitless: zod would otherwise generate and compile a parser for the object's ~60 keys on its
  // first parse, 5-30 ms of a start-up that parses each schema once (docs/performance.md, "Start-up").
  const result = z.safeParse(schema, given, { jitless: true, error: ENGLISH_ISSUES });
  if (!result.success) throw configError(result.error, nameOf, schema, given);
  return deepFreeze(result.data);
}

/**
 * zod's English wording of issues, passed per parse: zod/mini loads no locale, and zod's global
 * config is shared with a library user's own zod, so it is left alone.
 */
export const ENGLISH_ISSUES: z.core.$ZodErrorMap = english().localeError;

/** Validates library options for `startProxy`. */
export function parseProxyOptions(input: unknown): ProxyConfig {
  return parseWith(ProxyOptionsSchema, input);
}

const MASK = '***';
// scheme://user:PASSWORD@ — a password in a valid URL holds no '@' or '/' (they are %-encoded).
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i;

/**
 * `config` as a running proxy shows it (`proxy.config`), frozen: the passwords of --proxy-auth and
 * --upstream-proxy and the --client-cert passphrase read `***`, so a harness that logs it leaks none.
 */
export function redactSecrets(config: ProxyConfig): ProxyConfig {
  const { upstreamProxy, clientCertPassphrase } = config;
  return deepFreeze({
    ...config,
    proxyAuth: config.proxyAuth.map((entry) => `${entry.slice(0, entry.indexOf(':'))}:${MASK}`),
    ...(upstreamProxy === undefined ? {} : { upstreamProxy: upstreamProxy.replace(URL_PASSWORD, `$1${MASK}@`) }),
    ...(clientCertPassphrase === undefined ? {} : { clientCertPassphrase: MASK }),
  });
}

/** The fields of an object schema by key; undefined for any other schema. */
function shapeOf(schema: z.core.$ZodType): Readonly<Record<string, z.core.$ZodType>> | undefined {
  return schema._zod.def.type === 'object' ? (schema as z.core.$ZodObject)._zod.def.shape : undefined;
}

/** A list option given as one string (`upstreamCa: './ca.pem'`) becomes a list of one. */
function listsFromStrings(schema: z.core.$ZodType, input: unknown): unknown {
  const shape = shapeOf(schema);
  if (shape === undefined || typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const out: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const [key, value] of Object.entries(out)) {
    const field = shape[key];
    if (typeof value === 'string' && field !== undefined && unwrap(field)._zod.def.type === 'array') out[key] = [value];
  }
  return out;
}

/** The schema under `default` and `optional`. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let inner = schema;
  while (inner._zod.def.type === 'default' || inner._zod.def.type === 'optional') {
    inner = (inner as z.core.$ZodDefault | z.core.$ZodOptional)._zod.def.innerType;
  }
  return inner;
}

function configError(error: z.core.$ZodError, nameOf: (key: string) => string, schema: z.core.$ZodType, input: unknown): MitmError {
  const lines = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown option ${issue.keys.map(nameOf).join(', ')}`;
    const key = issue.path[0];
    if (typeof key !== 'string') return issue.message;
    const value = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[key] : undefined;
    const field = shapeOf(schema)?.[key];
    return ourWords(issue, nameOf(key), value, field === undefined ? undefined : unwrap(field)) ?? `${nameOf(key)}: ${issue.message}`;
  });
  return new MitmError('config_invalid', `invalid options: ${lines.join('; ')}`, { cause: error });
}

/** zod's common issues in our voice (`--port must be 0–65535, got 70000`); undefined keeps a schema's own message. */
function ourWords(issue: z.core.$ZodIssue, name: string, value: unknown, field: z.core.$ZodType | undefined): string | undefined {
  const got = `got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
  if ((issue.code === 'too_big' || issue.code === 'too_small') && issue.origin === 'number' && field?._zod.def.type === 'number') {
    const { min, max } = numberRange(field);
    if (min !== undefined && max !== undefined) return `${name} must be ${min}–${max}, ${got}`;
    if (min !== undefined) return `${name} must be at least ${min}, ${got}`;
    if (max !== undefined) return `${name} must be at most ${max}, ${got}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'string') return `${name} must not be empty`;
  if (issue.code === 'invalid_value') return `${name} must be one of ${issue.values.map(String).join(', ')}, ${got}`;
  if (issue.code === 'invalid_type') {
    const wanted = issue.expected === 'array' ? 'a list of strings (or one string)' : `a ${issue.expected}`;
    return `${name} must be ${wanted}, got ${Array.isArray(value) ? 'a list' : typeof value}`;
  }
  return undefined;
}

/** The parts of a zod check's definition that `numberRange` reads. */
interface NumberCheckDef {
  readonly check?: string;
  readonly value?: unknown;
  readonly inclusive?: boolean;
  readonly format?: string;
}

/**
 * What a number schema's checks allow: whole numbers only (`z.int()`, `.int()`), and the inclusive
 * bounds as a person would state them (integers: `positive` is at least 1), folded from the checks
 * as zod's JSON Schema output folds them.
 */
export function numberRange(field: z.core.$ZodType): { integer: boolean; min: number | undefined; max: number | undefined } {
  // A number format (z.int()) is its own first check.
  const checks = [...(field._zod.traits.has('$ZodCheck') ? [field] : []), ...(field._zod.def.checks ?? [])];
  const defs = checks.map((check) => check._zod.def as NumberCheckDef);
  const integer = defs.some((def) => def.check === 'number_format' && def.format?.includes('int') === true);
  const step = integer ? 1 : 0;
  let min: number | undefined;
  let max: number | undefined;
  for (const { check, value, inclusive } of defs) {
    if (typeof value !== 'number') continue;
    if (check === 'greater_than') min = Math.max(min ?? value, inclusive ? value : value + step);
    if (check === 'less_than') max = Math.min(max ?? value, inclusive ? value : value - step);
  }
  return { integer, min, max };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
