import * as z from 'zod';

// The HAR files `mitm flows import` reads: ours, Chrome DevTools' "Save all as HAR", Firefox's and
// mitmproxy's exports. Only what the import uses is checked, and loosely (HAR 1.2 marks most of it
// optional in practice: Firefox leaves out timings parts, Chrome adds pseudo-headers and `_` fields).

const nameValue = z.looseObject({ name: z.string(), value: z.string() });
const body = z.looseObject({
  mimeType: z.string().optional(),
  text: z.string().optional(),
  encoding: z.string().optional(),
  size: z.number().optional(),
  comment: z.string().optional(),
  _truncated: z.boolean().optional(),
});
const time = z.number().optional().catch(undefined);

/** One entry, as far as the import reads it. */
export const HarInputEntry = z.looseObject({
  startedDateTime: z.string(),
  time: time,
  request: z.looseObject({
    method: z.string(),
    url: z.string(),
    httpVersion: z.string().optional().catch(undefined),
    headers: z.array(nameValue).default([]),
    postData: body.optional().catch(undefined),
    bodySize: time,
  }),
  response: z.looseObject({
    status: z.number().int(),
    statusText: z.string().optional(),
    httpVersion: z.string().optional().catch(undefined),
    headers: z.array(nameValue).default([]),
    content: body.optional().catch(undefined),
    bodySize: time,
    _error: z.unknown().optional(),
  }),
  timings: z
    .looseObject({ blocked: time, dns: time, connect: time, ssl: time, send: time, wait: time, receive: time })
    .optional()
    .catch(undefined),
  connection: z.union([z.string(), z.number()]).optional().catch(undefined),
  serverIPAddress: z.string().optional().catch(undefined),
  _error: z.looseObject({ code: z.string(), message: z.string() }).optional().catch(undefined),
  _id: z.number().int().positive().optional().catch(undefined),
  _tags: z.array(z.string()).optional().catch(undefined),
  _mode: z.string().optional().catch(undefined),
  _resourceType: z.string().optional().catch(undefined),
  // Ours (har-fields.ts addTls): both sides' TLS facts as recorded; kept as given.
  _tls: z
    .looseObject({ client: z.looseObject({}).optional(), origin: z.looseObject({}).optional() })
    .optional()
    .catch(undefined),
  _webSocketMessages: z
    .array(z.looseObject({ type: z.string(), time: z.number(), opcode: z.number(), data: z.string(), _truncated: z.boolean().optional() }))
    .optional()
    .catch(undefined),
});

/** A HAR entry as the import reads it. */
export type HarInputEntry = z.infer<typeof HarInputEntry>;

/** A HAR file as the import reads it. */
export const HarInput = z.looseObject({ log: z.looseObject({ entries: z.array(HarInputEntry) }) });
