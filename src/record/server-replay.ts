import { parseReplayMatch, DEFAULT_REPLAY_MATCH } from '../config/replay-match.js';
import { ERROR_HEADER } from '../errors.js';
import type { Flow } from '../flow/flow.js';
import type { HeaderMap } from '../flow/header-map.js';
import { decodeContent } from './har-body.js';
import { bodyKey, headKey, type MatchRules } from './replay-match.js';
import { resendHeaders } from './resend-headers.js';
import { headerValues } from './store/reader.js';
import type { StoredFlow } from './store/types.js';

/** Options of `serverReplay` (the `serveFrom` option's `replay*` options, as the library spells them). */
export interface ServerReplayOptions {
  /** What a request must share with a recording: a comma list of method, url, body, headers, header:NAME (default `method,url,body`). */
  readonly match?: string | undefined;
  /** Query parameters (and form or JSON body fields) left out of the comparison. */
  readonly ignoreParams?: readonly string[] | undefined;
  /** Request headers left out when `match` includes `headers`. */
  readonly ignoreHeaders?: readonly string[] | undefined;
  /** `forward` (default) lets an unmatched request go to the origin; `404` answers it with `x-mitm-error: replay_unmatched`. */
  readonly unmatched?: 'forward' | '404' | undefined;
  /** The hook's name in logs and marks (default `serverReplay`). */
  readonly name?: string | undefined;
}

/** A recorded exchange `serverReplay` cannot answer with, and why. */
export interface LeftOutRecording {
  readonly method: string;
  readonly url: string;
  readonly reason: string;
}

/** The server-replay hook and what it holds. */
export interface ServerReplay {
  /** Add it to a proxy (`hooks`, `proxy.use`): answers matching requests, tagging their flows `from-recording`. */
  readonly hook: { readonly name: string; onRequest(flow: Flow): Promise<void> };
  /** Recorded exchanges it can answer with. */
  readonly recordings: number;
  /** Recorded exchanges it cannot answer with (no response, a cut body, a WebSocket...), in recorded order. */
  readonly leftOut: readonly LeftOutRecording[];
}

interface Answer {
  readonly status: number;
  readonly statusMessage: string | undefined;
  readonly headers: HeaderMap;
  readonly body: Buffer;
}

// A recorded body is at most the store's limit (8 MiB by default); what it inflates to is capped
// well above any page or API answer, so a hostile recording cannot exhaust memory at start.
const MAX_DECODED = 256 * 2 ** 20;

/**
 * Answers requests from recorded flows (a store's `query()`, or `readRecording(file)`) without
 * contacting the origin: a request matching a recording (`match`) gets its status, headers and
 * decoded body; identical requests get the recordings in recorded order, then the last again.
 * Unmatched requests go to the origin, or get `404` with `unmatched: '404'`.
 */
export function serverReplay(flows: readonly StoredFlow[], options: ServerReplayOptions = {}): ServerReplay {
  const rules: MatchRules = {
    match: parseReplayMatch(options.match ?? DEFAULT_REPLAY_MATCH),
    ignoreParams: new Set(options.ignoreParams ?? []),
    ignoreHeaders: new Set((options.ignoreHeaders ?? []).map((name) => name.toLowerCase())),
  };
  const groups = new Map<string, { readonly answers: Answer[]; next: number }>();
  const heads = new Set<string>();
  const leftOut: LeftOutRecording[] = [];
  const leftOutByHead = new Map<string, string>();
  for (const flow of flows) {
    const head = headKey(rules, flow.method, flow.url, flow.requestHeaders);
    const prepared = prepare(flow, rules);
    if (typeof prepared === 'string') {
      leftOut.push({ method: flow.method, url: flow.url, reason: prepared });
      leftOutByHead.set(head, prepared);
      continue;
    }
    const key = `${head}\n${prepared.body}`;
    heads.add(head);
    const group = groups.get(key);
    if (group) group.answers.push(prepared.answer);
    else groups.set(key, { answers: [prepared.answer], next: 0 });
  }
  const name = options.name ?? 'serverReplay';
  const hook = {
    name,
    async onRequest(flow: Flow): Promise<void> {
      const { request } = flow;
      const head = headKey(rules, request.method, request.url, pairs(request.wireHeaders()));
      let body = '';
      let unreadable: string | undefined;
      // The body is read only when some recording shares the rest of the key.
      if (rules.match.body && heads.has(head)) {
        try {
          body = bodyKey(rules, await request.bytes(), request.header('content-type'));
        } catch (error) {
          unreadable = `its body could not be read: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      const group = unreadable === undefined ? groups.get(`${head}\n${body}`) : undefined;
      if (group) {
        const answer = group.answers[Math.min(group.next, group.answers.length - 1)] as Answer;
        group.next += 1;
        flow.respond({ status: answer.status, headers: answer.headers, body: answer.body });
        if (flow.response) flow.response.statusMessage = answer.statusMessage;
        flow.tags.add('from-recording');
        return;
      }
      if (options.unmatched !== '404') return;
      const why = unreadable ?? leftOutByHead.get(head);
      const because = why === undefined ? '' : ` (${why === unreadable ? why : `its recording was left out: ${why}`})`;
      flow.respond({
        status: 404,
        headers: { 'content-type': 'text/plain; charset=utf-8', [ERROR_HEADER]: 'replay_unmatched' },
        body: `no recorded response matches ${request.method} ${request.url}${because}\n`,
      });
      flow.tags.add('replay-unmatched');
    },
  };
  return { hook, recordings: flows.length - leftOut.length, leftOut };
}

/** The answer and request-body key of a recording, or why it cannot be served. */
function prepare(flow: StoredFlow, rules: MatchRules): { answer: Answer; body: string } | string {
  const { status, responseBody, requestBody } = flow;
  if (flow.isWebSocket) return 'a WebSocket connection is not replayed';
  // A session recorded while replaying holds the 404s of its unmatched requests: no origin said those.
  if (flow.tags.includes('replay-unmatched')) return 'it is an earlier replay_unmatched answer, not a recorded one';
  // A flow that broke off (the proxy's own 502 for an untrusted origin, a reset mid-body) holds
  // no complete origin answer: serving its status with an empty or partial body would lie.
  if (status === undefined) return `no response was recorded${flow.error ? ` (${flow.error.code})` : ''}`;
  if (flow.error !== undefined) return `it ended in an error (${flow.error.code}), not in a complete answer`;
  if (flow.incomplete) return 'its response did not end';
  if (status < 200) return `a ${status} response is not replayed`;
  if (responseBody?.cut)
    return `its response body was cut at ${responseBody.raw.length} bytes when recorded (--record-body-limit, --store-body-limit)`;
  if (responseBody === undefined && bodyExpected(flow)) return 'its response body was not recorded';
  if (rules.match.body && requestBody?.cut) return `its request body was cut at ${requestBody.raw.length} bytes when recorded`;
  let body: Buffer;
  try {
    body = responseBody === undefined ? Buffer.alloc(0) : decoded(responseBody.raw, responseBody.contentEncoding);
  } catch (error) {
    return `its response body could not be decoded (${error instanceof Error ? error.message : String(error)})`;
  }
  const contentType = headerValues(flow.requestHeaders, 'content-type')[0];
  let requestBytes = requestBody?.raw ?? Buffer.alloc(0);
  try {
    requestBytes = requestBody === undefined ? requestBytes : decoded(requestBody.raw, requestBody.contentEncoding);
  } catch {
    // Compared as recorded: a client sending the same bytes still matches.
  }
  return {
    answer: { status, statusMessage: flow.statusMessage, headers: responseHeaders(flow.responseHeaders), body },
    body: rules.match.body ? bodyKey(rules, requestBytes, contentType) : '',
  };
}

/** True when the recorded response had a body that was not kept (Chrome's HARs without content, `--record-body-limit 0`). */
function bodyExpected(flow: StoredFlow): boolean {
  if (flow.method.toUpperCase() === 'HEAD' || flow.status === 204 || flow.status === 304) return false;
  const declared = Number(headerValues(flow.responseHeaders, 'content-length')[0] ?? 0);
  return (flow.responseSize ?? 0) > 0 || declared > 0;
}

/** A store keeps bodies as on the wire; a HAR decoded (contentEncoding undefined). */
function decoded(raw: Buffer, contentEncoding: string | undefined): Buffer {
  return contentEncoding === undefined || contentEncoding === '' ? raw : decodeContent(raw, contentEncoding, false, MAX_DECODED);
}

/**
 * The recorded response fields to answer with: without hop-by-hop and framing fields (the proxy
 * frames the body it sends), pseudo-headers, and Content-Encoding, since the body goes decoded.
 */
function responseHeaders(recorded: StoredFlow['responseHeaders']): HeaderMap {
  const headers: HeaderMap = {};
  for (const [name, value] of resendHeaders(recorded)) {
    const lower = name.toLowerCase();
    if (lower === 'content-encoding') continue;
    const previous = headers[lower];
    headers[lower] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return headers;
}

function pairs(raw: readonly string[]): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}
