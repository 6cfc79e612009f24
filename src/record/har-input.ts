import * as z from 'zod/mini';

// The HAR files `mitm flows import` reads: ours, Chrome DevTools' "Save all as HAR", Firefox's and
// mitmproxy's exports. Only what the import uses is checked, and loosely (HAR 1.2 marks most of it
// optional in practice: Firefox leaves out timings parts, Chrome adds pseudo-headers and `_` fields).

const nameValue = z.looseObject({ name: z.string(), value: z.string() });
const body = z.looseObject({
  mimeType: z.optional(z.string()),
  text: z.optional(z.string()),
  encoding: z.optional(z.string()),
  size: z.optional(z.number()),
  comment: z.optional(z.string()),
  _truncated: z.optional(z.boolean()),
});
/** An optional field whose bad value is dropped rather than failing the entry. */
const lenient = <T extends z.core.SomeType>(schema: T): z.ZodMiniCatch<z.ZodMiniOptional<T>> => z.catch(z.optional(schema), undefined);

const time = lenient(z.number());

/** One entry, as far as the import reads it. */
export const HarInputEntry = z.looseObject({
  startedDateTime: z.string(),
  time: time,
  request: z.looseObject({
    method: z.string(),
    url: z.string(),
    httpVersion: lenient(z.string()),
    headers: z._default(z.array(nameValue), []),
    postData: lenient(body),
    bodySize: time,
  }),
  response: z.looseObject({
    status: z.int(),
    statusText: z.optional(z.string()),
    httpVersion: lenient(z.string()),
    headers: z._default(z.array(nameValue), []),
    content: lenient(body),
    bodySize: time,
    _error: z.optional(z.unknown()),
  }),
  timings: lenient(z.looseObject({ blocked: time, dns: time, connect: time, ssl: time, send: time, wait: time, receive: time })),
  connection: lenient(z.union([z.string(), z.number()])),
  serverIPAddress: lenient(z.string()),
  _error: lenient(z.looseObject({ code: z.string(), message: z.string() })),
  _id: lenient(z.int().check(z.positive())),
  _tags: lenient(z.array(z.string())),
  _mode: lenient(z.string()),
  _resourceType: lenient(z.string()),
  // Ours (har-fields.ts addTls): both sides' TLS facts as recorded; kept as given.
  _tls: lenient(z.looseObject({ client: z.optional(z.looseObject({})), origin: z.optional(z.looseObject({})) })),
  _webSocketMessages: lenient(
    z.array(
      z.looseObject({ type: z.string(), time: z.number(), opcode: z.number(), data: z.string(), _truncated: z.optional(z.boolean()) }),
    ),
  ),
});

/** A HAR entry as the import reads it. */
export type HarInputEntry = z.infer<typeof HarInputEntry>;

/** A HAR file as the import reads it. */
export const HarInput = z.looseObject({ log: z.looseObject({ entries: z.array(HarInputEntry) }) });
