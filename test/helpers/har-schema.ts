import { z } from 'zod';

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) as far as mitm writes it: required
// fields are required, types are exact, and objects are strict, so a misspelt or unexpected field
// fails validation instead of being silently ignored by a viewer. Custom fields start with `_`.

/** A size in bytes or -1 ("not available"). */
const size = z.number().int().min(-1);
/** A duration in ms, or -1 where the phase does not apply. */
const notApplicable = z.literal(-1);
const duration = z.number().min(0);
/** A phase that may not have happened: a duration, or -1. */
const phase = z.union([notApplicable, duration]);

const nameValue = z.strictObject({ name: z.string(), value: z.string() });

const cookie = z.strictObject({
  name: z.string(),
  value: z.string(),
  path: z.string().optional(),
  domain: z.string().optional(),
  expires: z.iso.datetime().optional(),
  httpOnly: z.boolean().optional(),
  secure: z.boolean().optional(),
});

const postData = z.strictObject({
  mimeType: z.string(),
  text: z.string(),
  encoding: z.literal('base64').optional(),
  params: z.array(nameValue).optional(),
  comment: z.string().optional(),
  _truncated: z.literal(true).optional(),
});

const request = z.strictObject({
  method: z.string().min(1),
  url: z.url(),
  httpVersion: z.string().regex(/^HTTP\/\d(\.\d)?$/),
  cookies: z.array(cookie),
  headers: z.array(nameValue),
  queryString: z.array(nameValue),
  postData: postData.optional(),
  headersSize: size,
  bodySize: size,
});

const content = z.strictObject({
  size: z.number().int().min(0),
  compression: z.number().int().min(0).optional(),
  mimeType: z.string(),
  text: z.string().optional(),
  encoding: z.literal('base64').optional(),
  comment: z.string().optional(),
  _truncated: z.literal(true).optional(),
});

const response = z.strictObject({
  status: z.number().int().min(0).max(999),
  statusText: z.string(),
  httpVersion: z.string().regex(/^(HTTP\/\d(\.\d)?)?$/),
  cookies: z.array(cookie),
  headers: z.array(nameValue),
  content,
  redirectURL: z.string(),
  headersSize: size,
  bodySize: size,
});

const timings = z.strictObject({
  blocked: phase,
  dns: notApplicable,
  connect: phase,
  ssl: phase,
  send: duration,
  wait: duration,
  receive: duration,
});

const entry = z
  .strictObject({
    startedDateTime: z.iso.datetime(),
    time: duration,
    request,
    response,
    cache: z.strictObject({}),
    timings,
    serverIPAddress: z.ipv4().or(z.ipv6()).optional(),
    connection: z.string().regex(/^\d+$/),
    _error: z.strictObject({ code: z.string().min(1), message: z.string() }).optional(),
    _id: z.number().int().positive(),
    _tags: z.array(z.string()),
    _mode: z.enum(['regular', 'transparent', 'reverse']),
    _resourceType: z.literal('websocket').optional(),
    _securityDetails: z
      .strictObject({
        protocol: z.string().regex(/^TLS 1\.[0-3]$/),
        cipher: z.string().min(1),
        subjectName: z.string().optional(),
        sanList: z.array(z.string()).optional(),
        issuer: z.string().optional(),
        validFrom: z.number().int().optional(),
        validTo: z.number().int().optional(),
      })
      .optional(),
    _tls: z
      .strictObject({ client: z.looseObject({ sni: z.string() }).optional(), origin: z.looseObject({ sni: z.string() }).optional() })
      .optional(),
    _webSocketMessages: z
      .array(
        z.strictObject({
          type: z.enum(['send', 'receive']),
          time: z.number().positive(),
          opcode: z.union([z.literal(1), z.literal(2)]),
          data: z.string(),
          _truncated: z.literal(true).optional(),
        }),
      )
      .optional(),
  })
  // The spec: time is the sum of the timings that apply (ssl is part of connect).
  .refine(
    (e) => {
      const t = e.timings;
      return e.time === Math.max(0, t.blocked) + Math.max(0, t.connect) + t.send + t.wait + t.receive;
    },
    { message: 'time must equal blocked + connect + send + wait + receive (those that apply)' },
  )
  .refine((e) => e.timings.ssl <= e.timings.connect, { message: 'ssl is part of connect' })
  .refine((e) => e.response.status !== 0 || e._error !== undefined, { message: 'an entry without a response must say why in _error' });

/** A whole HAR file as mitm writes it. */
export const HarSchema = z.strictObject({
  log: z.strictObject({
    version: z.literal('1.2'),
    creator: z.strictObject({ name: z.string().min(1), version: z.string().min(1) }),
    pages: z.array(z.never()),
    entries: z.array(entry),
  }),
});

/** A validated HAR. */
export type ValidHar = z.infer<typeof HarSchema>;

/** Parses `value` as a HAR, throwing an error that lists every field that does not conform. */
export function validateHar(value: unknown): ValidHar {
  const result = HarSchema.safeParse(value);
  if (!result.success) throw new Error(`invalid HAR:\n${z.prettifyError(result.error)}`);
  return result.data;
}
