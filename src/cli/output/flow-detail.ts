import type { Flow, FlowRequest, FlowResponse } from '../../flow/flow.js';
import { valuesOf } from '../../flow/header-map.js';
import type { FlowTls } from '../../flow/tls-facts.js';
import { harBodyText } from '../../record/har-body.js';
import { timingDetail, type TimingDetail } from './tls-detail.js';

/** A body as the detailed log shows it: decoded text (truncated), or a size and type for binary. */
export interface BodyView {
  /** Bytes recorded (decoded where a content-encoding was undone). */
  readonly size: number;
  readonly type: string | undefined;
  /** The text shown; JSON pretty-printed; absent for binary or unrecorded bodies. */
  readonly text?: string;
  /** True when `text` is cut short (by --detail-body-limit, or the recording's own limit). */
  readonly truncated: boolean;
  readonly binary: boolean;
  /** Why nothing is shown, e.g. `not recorded`. */
  readonly note?: string;
}

/** One WebSocket message as the detailed log shows it. */
export interface MessageView {
  readonly direction: 'client-to-server' | 'server-to-client';
  readonly type: 'text' | 'binary';
  readonly size: number;
  readonly text?: string;
}

/** Everything `--flow-detail` adds to a flow's line, as plain data (the json format's fields). */
export interface FlowDetail {
  /** `mock`, `blocked`, `replay`, `modified by NAME, NAME`. */
  readonly marks: readonly string[];
  readonly requestHeaders?: ReadonlyArray<readonly [string, string]>;
  readonly responseHeaders?: ReadonlyArray<readonly [string, string]>;
  readonly requestBody?: BodyView;
  readonly responseBody?: BodyView;
  readonly connection?: {
    readonly client: string;
    readonly server: string | undefined;
    readonly requestHttpVersion: string;
    readonly responseHttpVersion: string | undefined;
    readonly tls: boolean;
  };
  /** What TLS negotiated with the client and the origin (the record's `tls`). */
  readonly tls?: FlowTls;
  /** Milestones in ms from the request head's arrival, and the phases: connect, TLS, wait, receive. */
  readonly timings?: TimingDetail;
  readonly messages?: readonly MessageView[];
  readonly messagesOmitted?: number;
}

// The stock hooks that answer a flow themselves: their mark ([mock], [blocked], [from recording]) already says it.
const ANSWERING_HOOKS = new Set(['block', 'blockHosts', 'mock', 'mockServer', 'fail', 'failRequests', 'serve-from', 'serverReplay']);

/** The marks of a flow's line: how hooks treated it (`mock`, `blocked`, `modified by NAME`). */
export function flowMarks(flow: Flow): string[] {
  // Read as lists: the getters would give every logged flow two sets it keeps while in the ring.
  return marksOf(new Set(flow.tagList()), flow.changedByList());
}

/** The marks for a flow's tags and the names of the hooks that changed it (a stored flow has tags only). */
export function marksOf(tags: ReadonlySet<string>, changedBy: Iterable<string>): string[] {
  const marks: string[] = [];
  const blocked = tags.has('blocked');
  const mocked = tags.has('mocked');
  if (blocked) marks.push('blocked');
  if (mocked) marks.push('mock');
  // Answered from a recording (--serve-from); `replayed` is a request sent again (proxy.replay).
  const fromRecording = tags.has('from-recording');
  if (fromRecording) marks.push('from recording');
  if (tags.has('replayed')) marks.push('replay');
  if (tags.has('replay-unmatched')) marks.push('replay unmatched');
  if (tags.has('throttled')) marks.push('throttled');
  if (tags.has('failed')) marks.push('failed on purpose');
  const answered = blocked || mocked || fromRecording || tags.has('failed') || tags.has('replay-unmatched');
  // The replay hook's only change is taking off its own token header: `replay` says it already.
  const others = [...changedBy].filter((name) => !(answered && ANSWERING_HOOKS.has(name)) && !(name === 'replay' && tags.has('replayed')));
  if (others.length > 0) marks.push(`modified by ${others.join(', ')}`);
  return marks;
}

/** The detail of `flow` at `level` (2 headers, 3 + bodies, 4 + connection, timings, messages); bodies cut at `bodyLimit` bytes. */
export function flowDetail(flow: Flow, level: number, bodyLimit: number): FlowDetail {
  const { request, response } = flow;
  const detail: { -readonly [K in keyof FlowDetail]: FlowDetail[K] } = { marks: flowMarks(flow) };
  if (level >= 2) {
    detail.requestHeaders = pairs(request.wireHeaders());
    if (response) detail.responseHeaders = pairs(response.wireHeaders());
  }
  if (level >= 3) {
    const requestBody = bodyView(request, bodyLimit);
    if (requestBody) detail.requestBody = requestBody;
    const responseBody = response ? bodyView(response, bodyLimit) : undefined;
    if (responseBody) detail.responseBody = responseBody;
  }
  if (level >= 4) {
    detail.connection = {
      client: `${flow.client.address}:${flow.client.port}`,
      server: flow.server ? `${flow.server.address}:${flow.server.port}` : undefined,
      requestHttpVersion: request.httpVersion,
      responseHttpVersion: response?.httpVersion,
      tls: request.url.startsWith('https:') || request.url.startsWith('wss:'),
    };
    if (flow.tls) detail.tls = flow.tls;
    detail.timings = timingDetail(flow.timings);
    if (flow.webSocket) {
      detail.messages = flow.webSocket.messages.map(
        (message): MessageView => ({
          direction: message.direction,
          type: message.type,
          size: message.size,
          ...(message.type === 'text' ? { text: cut(message.data.toString('utf8'), bodyLimit).text } : {}),
        }),
      );
      detail.messagesOmitted = flow.webSocket.omitted;
    }
  }
  return detail;
}

function pairs(raw: readonly string[]): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return out;
}

/** A message's recorded body for the log; undefined when there is none to speak of. */
function bodyView(message: FlowRequest | FlowResponse, limit: number): BodyView | undefined {
  const store = message.bodyStore;
  const type = message.header('content-type');
  const recorded = store.recorded();
  if (recorded.data.length === 0) {
    const declared = Number(message.header('content-length') ?? '0');
    if (store.recordLimit === 0 && declared > 0) return { size: declared, type, truncated: false, binary: false, note: 'not recorded' };
    return undefined;
  }
  const encoding = store.replaced ? '' : valuesOf(message.headers['content-encoding']).join(',');
  const body = harBodyText(recorded.data, { contentEncoding: encoding, mimeType: type ?? '', truncated: recorded.truncated });
  if (body.encoding === 'base64') return { size: body.size, type, truncated: recorded.truncated, binary: true };
  const shown = cut(prettyJson(body.text, type, recorded.truncated), limit);
  return { size: body.size, type, text: shown.text, truncated: shown.truncated || recorded.truncated, binary: false };
}

/** JSON pretty-printed (two spaces) when the type says JSON and the whole body parses; the text otherwise. */
export function prettyJson(text: string, type: string | undefined, truncated: boolean): string {
  if (truncated || !/[/+]json\b/i.test(type ?? '')) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** `text` cut to at most `limit` UTF-8 bytes (at a character boundary). */
export function cut(text: string, limit: number): { text: string; truncated: boolean } {
  if (Buffer.byteLength(text) <= limit) return { text, truncated: false };
  // Decoding a byte slice drops a split character's tail as U+FFFD; strip that replacement.
  const head = Buffer.from(text)
    .subarray(0, limit)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { text: head, truncated: true };
}
