import { z } from 'zod';

/**
 * Every option of the proxy, declared once. The library's `startProxy(options)` validates against
 * it, and the CLI derives its flags and `--help` text from it (see src/cli/flags.ts), so a default
 * or a description lives in exactly one place. `arg` names the value in `--help`.
 */
export const ProxyOptionsSchema = z
  .object({
    ca: z
      .string()
      .min(1)
      .default('./certs')
      .meta({ arg: 'DIR', description: 'CA folder holding ca.pem and ca-key.pem; created with a new root CA when missing' }),
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .meta({ arg: 'ADDR', description: 'Address to listen on (use 0.0.0.0 to accept other machines)' }),
    port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(8080)
      .meta({ arg: 'N', description: 'Port to listen on; 0 picks a free port' }),
    passthrough: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'GLOB', description: 'Tunnel matching hosts untouched, without decryption (repeatable)' }),
    intercept: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'GLOB', description: 'Decrypt only matching hosts and tunnel all others (repeatable)' }),
    insecure: z
      .boolean()
      .default(false)
      .meta({ description: "Do not verify origin certificates (dangerous: hides the origin's identity)" }),
    upstreamCa: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'FILE', description: 'Also trust the CA certificates in this PEM file for origins (repeatable)' }),
    upstreamTimeout: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .meta({ arg: 'MS', description: 'Time allowed to connect to an origin and receive its response head' }),
    maxOriginConnections: z
      .number()
      .int()
      .positive()
      .default(128)
      .meta({ arg: 'N', description: 'Most simultaneous connections to one origin; further requests wait' }),
    maxBodyBuffer: z
      .number()
      .int()
      .nonnegative()
      .default(16 * 2 ** 20)
      .meta({ arg: 'BYTES', description: 'Largest body a hook may read or replace in memory; larger ones stream unread' }),
    keep: z
      .number()
      .int()
      .nonnegative()
      .default(1000)
      .meta({ arg: 'N', description: 'Flows kept in memory for proxy.flows and --har; the oldest are dropped first' }),
    recordBodyLimit: z
      .number()
      .int()
      .nonnegative()
      .default(64 * 2 ** 10)
      .meta({ arg: 'BYTES', description: 'Bytes of each request and response body kept with a recorded flow' }),
    hook: z
      .array(z.string().min(1))
      .default([])
      .meta({ arg: 'FILE', description: 'Load hooks from a module (.mjs, .js or .ts) whose default export is a hook or an array of hooks (repeatable)' }),
    leafCacheSize: z
      .number()
      .int()
      .positive()
      .default(1000)
      .meta({ arg: 'N', description: 'Minted per-host certificates kept ready in memory' }),
  })
  .strict();

/** Options of the command line only: how `mitm start` reports what it sees. */
export const CliOptionsSchema = ProxyOptionsSchema.extend({
  quiet: z.boolean().default(false).meta({ description: 'Print only the listening line and errors, not each flow' }),
  logFormat: z
    .enum(['pretty', 'json'])
    .default('pretty')
    .meta({ arg: 'FORMAT', description: 'How flows are printed: pretty (one line each) or json (one object per line)' }),
}).strict();

/** What a caller of `startProxy` may pass: every field optional. */
export type ProxyOptions = z.input<typeof ProxyOptionsSchema>;
/** The validated, defaulted and frozen options the proxy reads. */
export type ProxyConfig = Readonly<z.output<typeof ProxyOptionsSchema>>;
/** The validated options of `mitm start`. */
export type CliConfig = Readonly<z.output<typeof CliOptionsSchema>>;
