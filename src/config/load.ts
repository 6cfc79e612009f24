import * as z from 'zod';
import { MitmError } from '../errors.js';
import { ProxyOptionsSchema, type ProxyConfig } from './schema.js';

/**
 * Validates `input` against `schema` and returns a deeply frozen copy with defaults filled in.
 * A bad value becomes a `config_invalid` error whose message names the option, via `nameOf`
 * (the CLI passes a function that turns `upstreamCa` into `--upstream-ca`).
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  nameOf: (key: string) => string = (key) => key,
): Readonly<z.output<S>> {
  const given = listsFromStrings(schema, input ?? {});
  // jitless: zod would otherwise generate and compile a parser for the object's ~60 keys on its
  // first parse, 5-30 ms of a start-up that parses each schema once (docs/performance.md, "Start-up").
  const result = schema.safeParse(given, { jitless: true });
  if (!result.success) throw configError(result.error, nameOf, schema, given);
  return deepFreeze(result.data);
}

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

/** A list option given as one string (`upstreamCa: './ca.pem'`) becomes a list of one. */
function listsFromStrings(schema: z.ZodType, input: unknown): unknown {
  if (!(schema instanceof z.ZodObject) || typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const shape = schema.shape as Record<string, z.ZodType>;
  const out: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const [key, value] of Object.entries(out)) {
    const field = shape[key];
    if (typeof value === 'string' && field !== undefined && unwrap(field) instanceof z.ZodArray) out[key] = [value];
  }
  return out;
}

/** The schema under `.default()` and `.optional()`. */
function unwrap(schema: z.ZodType): z.ZodType {
  let inner = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  return inner;
}

function configError(error: z.ZodError, nameOf: (key: string) => string, schema: z.ZodType, input: unknown): MitmError {
  const lines = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown option ${issue.keys.map(nameOf).join(', ')}`;
    const key = issue.path[0];
    if (typeof key !== 'string') return issue.message;
    const value = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[key] : undefined;
    const field = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>)[key] : undefined;
    return ourWords(issue, nameOf(key), value, field === undefined ? undefined : unwrap(field)) ?? `${nameOf(key)}: ${issue.message}`;
  });
  return new MitmError('config_invalid', `invalid options: ${lines.join('; ')}`, { cause: error });
}

/** zod's common issues in our voice (`--port must be 0–65535, got 70000`); undefined keeps a schema's own message. */
function ourWords(issue: z.core.$ZodIssue, name: string, value: unknown, field: z.ZodType | undefined): string | undefined {
  const got = `got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
  if ((issue.code === 'too_big' || issue.code === 'too_small') && issue.origin === 'number' && field instanceof z.ZodNumber) {
    const { min, max } = numberBounds(field);
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

const Bounds = z.object({
  type: z.string(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  exclusiveMinimum: z.number().optional(),
  exclusiveMaximum: z.number().optional(),
});

/** A number option's inclusive bounds as a person would state them (integers: `positive` is at least 1); none past the safe range. */
function numberBounds(field: z.ZodNumber): { min: number | undefined; max: number | undefined } {
  const json = Bounds.parse(z.toJSONSchema(field));
  const step = json.type === 'integer' ? 1 : 0;
  const shown = (bound: number | undefined): number | undefined =>
    bound !== undefined && Math.abs(bound) < Number.MAX_SAFE_INTEGER ? bound : undefined;
  return {
    min: shown(json.minimum ?? (json.exclusiveMinimum === undefined ? undefined : json.exclusiveMinimum + step)),
    max: shown(json.maximum ?? (json.exclusiveMaximum === undefined ? undefined : json.exclusiveMaximum - step)),
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
