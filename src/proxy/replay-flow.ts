// proxy.replay(id, edits): a kept flow's request sent again through this proxy, edited or not, with
// record/replay.ts's replay() (one sender for `mitm replay`, the library and the inspector). The
// new flow is recorded like any other, tagged `replayed` and `replay-of:ID` (hooks/replay-mark.ts).
import { MitmError } from '../errors.js';
import type { Flow } from '../flow/flow.js';
import { REPLAY_HEADER, type ReplayMarks } from '../hooks/replay-mark.js';
import { replay, type ReplayResult } from '../record/replay.js';
import { flowRows } from '../record/store/flow-rows.js';
import { storedFromRows } from '../record/store/stored-from-rows.js';
import type { HeaderPair, StoredFlow } from '../record/store/types.js';

/** What to change before the request is sent again; each field is optional. */
export interface ReplayEdits {
  readonly method?: string | undefined;
  /** An absolute http(s) URL. */
  readonly url?: string | undefined;
  /** The whole header list to send, in order (hop-by-hop, framing and Host fields are dropped as `mitm replay` does). */
  readonly headers?: readonly HeaderPair[] | undefined;
  /** The new body, sent as it is (any Content-Encoding header is dropped). */
  readonly body?: string | Buffer | undefined;
}

/** A replay's outcome: the new flow as the proxy recorded it, and replay()'s comparison with the original. */
export interface ReplayedFlow {
  readonly original: number;
  readonly flow: Flow;
  readonly result: ReplayResult;
}

/** What a replay needs of the running proxy. */
export interface ReplayDeps {
  readonly flows: readonly Flow[];
  readonly marks: ReplayMarks;
  /** The proxy's own URL and root CA: the replay goes through it, trusting it. */
  readonly through: string;
  readonly caCertPem: string;
  readonly recordBodyLimit: number;
  readonly timeoutMs: number;
  readonly waitForFlow: (predicate: (flow: Flow) => boolean, options: { timeout: number }) => Promise<Flow>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Sends flow `id` again through the proxy with `edits`; resolves with the new flow once it is recorded. Throws `replay_failed`. */
export async function replayFlow(deps: ReplayDeps, id: number, edits: ReplayEdits = {}): Promise<ReplayedFlow> {
  const original = deps.flows.find((flow) => flow.id === id);
  if (!original) throw new MitmError('replay_failed', `flow ${id} is not kept (any more): only the last flows of the ring can be replayed`);
  const stored = edited(storedFromRows(flowRows(original, { mode: original.mode }, Math.max(deps.recordBodyLimit, 1)), id), edits);
  const mark = deps.marks.expect(id);
  const sent = { ...stored, requestHeaders: [...stored.requestHeaders, [REPLAY_HEADER, mark.token] as const] };
  let result: ReplayResult | undefined;
  try {
    [result] = await replay([sent], { through: deps.through, ca: deps.caCertPem, timeoutMs: deps.timeoutMs });
  } finally {
    mark.cancel();
  }
  // The request reached the proxy before replay() resolved, or never will.
  const marked = await Promise.race([mark.flow, Promise.resolve(undefined)]);
  if (!result || !marked) {
    throw new MitmError('replay_failed', `flow ${id} could not be sent again through the proxy: ${result?.error ?? 'no answer'}`);
  }
  const flow = await deps.waitForFlow((candidate) => candidate === marked, { timeout: deps.timeoutMs });
  return { original: id, flow, result };
}

/** The stored request with `edits` applied; checks what replay() would otherwise send broken. */
function edited(stored: StoredFlow, edits: ReplayEdits): StoredFlow {
  const invalid = (reason: string): never => {
    throw new MitmError('replay_failed', `flow ${stored.id} not replayed: ${reason}`);
  };
  if (edits.method !== undefined && !TOKEN.test(edits.method)) invalid(`method ${JSON.stringify(edits.method)} is not an HTTP token`);
  if (edits.url !== undefined && !/^https?:\/\//i.test(edits.url))
    invalid(`url ${JSON.stringify(edits.url)} is not an absolute http(s) URL`);
  if (edits.url !== undefined && !URL.canParse(edits.url)) invalid(`url ${JSON.stringify(edits.url)} does not parse`);
  for (const [name, value] of edits.headers ?? []) {
    if (!TOKEN.test(name)) invalid(`header name ${JSON.stringify(name)} is not an HTTP token`);
    if (/[\r\n\0]/.test(value)) invalid(`header ${name} has a line break in its value`);
  }
  const body = edits.body === undefined ? undefined : Buffer.from(edits.body);
  let headers = edits.headers ?? stored.requestHeaders;
  if (body !== undefined) headers = headers.filter(([name]) => name.toLowerCase() !== 'content-encoding');
  return {
    ...stored,
    method: edits.method ?? stored.method,
    url: edits.url ?? stored.url,
    requestHeaders: headers,
    requestBody:
      body === undefined
        ? stored.requestBody
        : { raw: body, contentEncoding: undefined, text: undefined, cut: false, fullLength: body.length },
  };
}
