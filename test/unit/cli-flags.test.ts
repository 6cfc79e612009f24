import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { CliOptionsSchema, ProxyOptionsSchema } from '../../src/config/schema.js';
import { StartOptionsSchema } from '../../src/cli/start.js';
import { UiCommandSchema } from '../../src/cli/ui.js';
import {
  describeFlags,
  flagToKey,
  formatHelp,
  formatOptions,
  keyToFlag,
  parseFlags,
  toParseArgsOptions,
  UsageError,
  type ParsedFlags,
} from '../../src/cli/flags.js';

/** Parses and insists on options (not a help request), so each test reads as input → output. */
function options<T>(parsed: ParsedFlags<T>): T {
  assert.equal(parsed.help, false);
  if (parsed.help) throw new Error('unreachable');
  return parsed.options;
}

/** Asserts that parsing `argv` is a usage error whose message matches `pattern`. */
function rejects(argv: string[], pattern: RegExp, schema: z.core.$ZodObject = CliOptionsSchema): void {
  assert.throws(
    () => parseFlags(schema, argv),
    (error: unknown) => error instanceof UsageError && pattern.test(error.message),
    `expected a usage error matching ${pattern} for ${JSON.stringify(argv)}`,
  );
}

/** The message of the usage error that parsing `argv` must throw. */
function usageMessage(argv: string[], schema: z.core.$ZodObject = CliOptionsSchema): string {
  try {
    parseFlags(schema, argv);
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError for ${JSON.stringify(argv)}, got ${String(error)}`);
    return error.message;
  }
  assert.fail(`expected a usage error for ${JSON.stringify(argv)}`);
}

test('keys and flags convert both ways', () => {
  assert.equal(keyToFlag('upstreamCa'), '--upstream-ca');
  assert.equal(keyToFlag('maxOriginConnections'), '--max-origin-connections');
  assert.equal(keyToFlag('port'), '--port');
  assert.equal(flagToKey('--upstream-ca'), 'upstreamCa');
  for (const key of Object.keys(CliOptionsSchema.shape)) assert.equal(flagToKey(keyToFlag(key)), key);
});

test('no flags gives exactly the schema defaults', () => {
  assert.deepEqual(options(parseFlags(CliOptionsSchema, [])), CliOptionsSchema.parse({}));
});

test('values are converted by type, with = or a separate word', () => {
  const argv = ['--port', '0', '--host=0.0.0.0', '--insecure', '--upstream-timeout', '500', '--log-format', 'json'];
  const parsed = options(parseFlags(CliOptionsSchema, argv));
  assert.equal(parsed.port, 0);
  assert.equal(parsed.host, '0.0.0.0');
  assert.equal(parsed.insecure, true);
  assert.equal(parsed.upstreamTimeout, 500);
  assert.equal(parsed.logFormat, 'json');
  assert.equal(parsed.quiet, false);
});

test('array flags repeat and keep their order', () => {
  const parsed = options(parseFlags(CliOptionsSchema, ['--passthrough', '*.apple.com', '--upstream-ca', 'a.pem', '--passthrough=b.test']));
  assert.deepEqual(parsed.passthrough, ['*.apple.com', 'b.test']);
  assert.deepEqual(parsed.upstreamCa, ['a.pem']);
  assert.deepEqual(parsed.intercept, []);
});

test('a repeated single-value flag keeps the last value', () => {
  assert.equal(options(parseFlags(CliOptionsSchema, ['--port', '1', '--port', '2'])).port, 2);
});

test('the result is frozen, like the library config', () => {
  const parsed = options(parseFlags(CliOptionsSchema, ['--passthrough', 'x']));
  assert.ok(Object.isFrozen(parsed));
  assert.ok(Object.isFrozen(parsed.passthrough));
});

test('--help and -h win over everything else on the line', () => {
  assert.deepEqual(parseFlags(CliOptionsSchema, ['--help']), { help: true });
  assert.deepEqual(parseFlags(CliOptionsSchema, ['--bogus', '-h']), { help: true });
});

test('numbers are parsed strictly and the error names the flag', () => {
  for (const value of ['abc', '12abc', '', '1e3', '0x10', '1.5', ' 1']) {
    rejects(['--port', value], /^--port: expected an integer/);
  }
  rejects(['--upstream-timeout=Infinity'], /^--upstream-timeout: expected an integer/);
  const decimals = z.object({ ratio: z.number().default(1) });
  assert.equal(options(parseFlags(decimals, ['--ratio', '0.25'])).ratio, 0.25);
  assert.equal(options(parseFlags(decimals, ['--ratio=-.5'])).ratio, -0.5);
  rejects(['--ratio', '1e3'], /^--ratio: expected a number, got "1e3"$/, decimals);
});

test('schema rules are checked by the schema; our message names the flag as typed, never the key', () => {
  // The wording is ours, never zod's: "invalid options: --port must be 0–65535, got 65536".
  for (const [argv, flag, key] of [
    [['--port', '65536'], '--port', 'port'],
    [['--max-origin-connections', '0'], '--max-origin-connections', 'maxOriginConnections'],
    [['--log-format', 'xml'], '--log-format', 'logFormat'],
    [['--host='], '--host', 'host'],
    [['--upstream-timeout', '0'], '--upstream-timeout', 'upstreamTimeout'],
  ] as const) {
    const message = usageMessage([...argv]);
    assert.ok(message.startsWith(`invalid options: ${flag} must `), `${JSON.stringify(argv)}: ${message}`);
    assert.ok(!/Too (big|small)|Invalid (input|option)|expected number/.test(message), `${JSON.stringify(argv)}: zod's voice: ${message}`);
    if (key !== flag.slice(2)) assert.ok(!message.includes(key), `${JSON.stringify(argv)}: names the schema key ${key}: ${message}`);
  }
  // Every broken rule is reported, each with its own flag.
  assert.match(
    usageMessage(['--port', '65536', '--max-origin-connections', '0']),
    /^invalid options: --port must be 0–65535, got 65536; --max-origin-connections must be at least 1, got 0$/,
  );
});

test("the schema's own messages reach the user verbatim after the flag", () => {
  rejects(['--proxy-auth', 'nocolon'], /^invalid options: --proxy-auth: expected USER:PASSWORD$/);
  rejects(['--client-cert', 'no-equals'], /^invalid options: --client-cert: expected HOSTGLOB=FILE$/);
  rejects(
    ['--upstream-proxy', 'ftp://x.test:1'],
    /^invalid options: --upstream-proxy: unsupported scheme ftp \(use http, https, socks5 or socks5h\)$/,
  );
});

test('command-line mistakes name the flag', () => {
  rejects(['--bogus'], /^unknown option --bogus$/);
  rejects(['--bogus=1'], /^unknown option --bogus$/);
  rejects(['-x'], /^unknown option -x$/);
  rejects(['--port'], /^--port: missing value \(N\)$/);
  rejects(['--port', '--quiet'], /^--port: missing value \(N\); write --port=--quiet if that is the value$/);
  rejects(['--quiet=yes'], /^--quiet: takes no value$/);
  rejects(['stray'], /^unexpected argument "stray"$/);
  rejects(['--', '--port'], /^unexpected argument "--port"$/);
});

test('a required key without a default is a usage error naming its flag', () => {
  const schema = z.object({ format: z.enum(['pem', 'der']).meta({ arg: 'FORMAT' }), out: z.string().optional() });
  rejects([], /^missing --format FORMAT$/, schema);
  assert.deepEqual(options(parseFlags(schema, ['--format', 'der'])), { format: 'der' });
});

test('flag specs follow the schema: kebab names, types, placeholders, defaults, choices', () => {
  const specs = describeFlags(CliOptionsSchema);
  assert.deepEqual(
    specs.map((spec) => spec.key),
    Object.keys(CliOptionsSchema.shape),
  );
  const byKey = new Map(specs.map((spec) => [spec.key, spec]));
  assert.deepEqual(byKey.get('upstreamCa'), {
    key: 'upstreamCa',
    flag: '--upstream-ca',
    type: 'array',
    arg: 'FILE',
    description: 'Also trust the CA certificates in this PEM file for origins (repeatable)',
    defaultValue: [],
    choices: undefined,
    required: false,
  });
  assert.equal(byKey.get('port')?.type, 'integer');
  assert.equal(byKey.get('insecure')?.arg, undefined);
  assert.deepEqual(byKey.get('logFormat')?.choices, ['pretty', 'json']);
});

test('parseArgs options: booleans take no value, arrays are multiple, --help is reserved', () => {
  const table = toParseArgsOptions(describeFlags(CliOptionsSchema));
  assert.deepEqual(table.insecure, { type: 'boolean' });
  assert.deepEqual(table['upstream-ca'], { type: 'string', multiple: true });
  assert.deepEqual(table.port, { type: 'string', multiple: false });
  assert.deepEqual(table.help, { type: 'boolean', short: 'h' });
  assert.throws(() => describeFlags(z.object({ help: z.boolean() })), /reserves --help/);
});

test('help lists every schema key as a flag with its description and default', () => {
  const help = formatHelp('mitm start [options]', 'Run it.', CliOptionsSchema);
  assert.match(help, /^Usage: mitm start \[options\]\n\nRun it\.\n\nOptions:\n/);
  const lines = help.split('\n');
  for (const [key, field] of Object.entries(CliOptionsSchema.shape)) {
    const line = lines.find((candidate) => candidate.trimStart().startsWith(`${keyToFlag(key)} `));
    assert.ok(line, `no help line for ${key}`);
    const description = z.globalRegistry.get(field)?.description;
    assert.ok(description !== undefined && line.includes(description), `${key}: description missing in ${line}`);
    const fallback: unknown = field.parse(undefined);
    if (typeof fallback === 'number' || typeof fallback === 'string') {
      assert.ok(line.includes(`default: ${fallback}`), `${key}: default missing in ${line}`);
    }
  }
  assert.match(help, /--port N +Port to listen on; 0 picks a free port \(default: 8080\)/);
  assert.match(help, /--log-format FORMAT .*\(one of: pretty, json; default: pretty\)/);
  assert.match(help, /--insecure +Do not verify/);
  assert.match(help, /-h, --help +Show this help/);
});

test('help marks required flags and repeatable ones it has to infer', () => {
  const schema = z.object({
    from: z.string().meta({ arg: 'DIR', description: 'Where from' }),
    tag: z.array(z.string()).default(['a', 'b']).meta({ description: 'Tags' }),
  });
  const text = formatOptions(describeFlags(schema));
  assert.match(text, /--from DIR +Where from \(required\)/);
  assert.match(text, /--tag VALUE +Tags \(repeatable; default: a, b\)/);
});

test('--no-FLAG turns off a boolean that defaults to on; it is refused for other flags', () => {
  const schema = z.object({ feature: z.boolean().default(true).meta({ description: 'x' }), name: z.string().default('a') }).strict();
  const parsed = parseFlags(schema, ['--no-feature']);
  assert.equal(parsed.help === false && parsed.options.feature, false);
  assert.throws(() => parseFlags(schema, ['--no-name']), /unknown option --no-name/);
});

// describeFlags reads each option's zod definition (z.toJSONSchema cost start-up time); the flags it
// derives must stay what the JSON Schema of the same options says, for every kind of option we have.
test('flag specs agree with the JSON Schema of the options (types, arg, description, default, choices, required)', () => {
  for (const schema of [ProxyOptionsSchema, CliOptionsSchema, StartOptionsSchema, UiCommandSchema]) {
    const json = z.toJSONSchema(schema, { io: 'input' }) as {
      properties: Record<string, Record<string, unknown> & { anyOf?: Array<{ type?: string }> }>;
      required?: string[];
    };
    const expected = Object.entries(json.properties).map(([key, property]) => {
      const type = property.type ?? (property.anyOf?.some((choice) => choice.type === 'string') ? 'string' : undefined);
      const choices = property.enum as string[] | undefined;
      return {
        key,
        flag: keyToFlag(key),
        type,
        arg: type === 'boolean' ? undefined : ((property.arg as string | undefined) ?? choices?.join('|') ?? 'VALUE'),
        description: (property.description as string | undefined) ?? '',
        defaultValue: property.default,
        choices,
        required: (json.required ?? []).includes(key),
      };
    });
    assert.deepEqual(describeFlags(schema), expected);
  }
});
