import type { StoredFlow } from '../store/types.js';
import { mergeTypes, renderType, typeOf, type JsonType } from './infer-type.js';
import { identifier, pathTemplates } from './path-template.js';
import { Redactor, type RedactionReport } from './redact.js';

/** One answer as exported: the `MockAnswer` of `mockServer({ rules })`. */
export interface ExportedAnswer {
  readonly path: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly json?: unknown;
  readonly text?: string;
  readonly base64?: string;
}

/** One endpoint: a `MockRuleData` with the names and type the module gives it. */
export interface MockEndpoint {
  /** The rule's name in the module (`getUsersById`). */
  readonly name: string;
  /** The response body type's name (`GetUsersByIdResponse`), when some answer is JSON. */
  readonly typeName: string | undefined;
  readonly type: JsonType | undefined;
  readonly method: string;
  /** The URL template (`http://api.test/users/:id`). */
  readonly url: string;
  /** One per distinct path and query, the last recording of each, in the order of those recordings. */
  readonly answers: readonly ExportedAnswer[];
  /** Flows recorded for it. */
  readonly recordings: number;
}

/** What `exportMocks` made of a set of flows. */
export interface MockExport {
  /** Rules in match order: fewer parameters first, then as first recorded. */
  readonly endpoints: readonly MockEndpoint[];
  /** Flows used. */
  readonly flows: number;
  /** Flows left out, by reason (`WebSocket`, `no response`, `broke off`, `response body cut`). */
  readonly skipped: ReadonlyArray<readonly [reason: string, count: number]>;
  readonly redactions: RedactionReport;
}

/** Response fields that describe the recorded transfer, not the answer; a mock's own framing replaces them. */
const TRANSFER_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'trailer',
  'te',
  'date',
]);

interface Recording {
  readonly method: string;
  readonly origin: string;
  readonly segments: readonly string[];
  readonly answer: ExportedAnswer;
  readonly signature: string;
}

/** The recordings of one method, origin, path and query: the last one's answer, counts and merged type. */
interface PathEntry {
  last: Recording;
  readonly firstSeen: number;
  lastSeen: number;
  count: number;
  type: JsonType | undefined;
  readonly signatures: Set<string>;
}

/**
 * Turns recorded flows into mock rules, one per endpoint (method, origin, path template), with
 * secrets replaced by placeholders (`redact`: more secret names besides the built-in ones).
 * `flows` is read twice (secrets first, then answers), one flow at a time, so a caller can stream
 * them from a store; what is kept is one answer per distinct path and query.
 */
export function exportMocks(flows: () => Iterable<StoredFlow>, redact: readonly RegExp[] = []): MockExport {
  const skipped = new Map<string, number>();
  const redactor = new Redactor(redact);
  for (const flow of flows()) {
    const reason = skipReason(flow);
    if (reason === undefined) collectSecrets(flow, redactor);
    else skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
  }
  redactor.stopCounting();
  const paths = new Map<string, PathEntry>();
  let used = 0;
  for (const flow of flows()) {
    if (skipReason(flow) !== undefined) continue;
    const recording = record(flow, redactor);
    const key = `${recording.method} ${recording.origin}${recording.answer.path}`;
    const entry = paths.get(key) ?? { last: recording, firstSeen: used, lastSeen: used, count: 0, type: undefined, signatures: new Set() };
    const { json } = recording.answer;
    entry.last = recording;
    entry.lastSeen = used;
    entry.count += 1;
    if (json !== undefined) entry.type = entry.type === undefined ? typeOf(json) : mergeTypes(entry.type, typeOf(json));
    entry.signatures.add(recording.signature);
    paths.set(key, entry);
    used += 1;
  }
  const entries = [...paths.values()];
  // One input per path and signature: a path answered in two shapes (200, then 404) counts both.
  const inputs = entries.flatMap((entry, index) =>
    [...entry.signatures].map((signature) => ({
      index,
      group: `${entry.last.method} ${entry.last.origin}`,
      segments: entry.last.segments,
      signature,
    })),
  );
  const templates = pathTemplates(inputs);
  const groups = new Map<string, { method: string; url: string; members: PathEntry[] }>();
  inputs.forEach((input, i) => {
    const entry = entries[input.index] as PathEntry;
    const url = `${entry.last.origin}${templates[i]}`;
    const key = `${entry.last.method} ${url}`;
    const group = groups.get(key) ?? { method: entry.last.method, url, members: [] };
    if (!group.members.includes(entry)) group.members.push(entry);
    groups.set(key, group);
  });
  const names = new Set<string>();
  const endpoints = [...groups.values()]
    .map((group) => ({
      group,
      first: Math.min(...group.members.map((entry) => entry.firstSeen)),
      params: group.url.split('/:').length - 1,
    }))
    .sort((a, b) => a.params - b.params || a.first - b.first)
    .map(({ group }) => endpoint(group.method, group.url, group.members, names));
  return { endpoints, flows: used, skipped: [...skipped], redactions: redactor.report() };
}

function skipReason(flow: StoredFlow): string | undefined {
  if (flow.isWebSocket) return 'WebSocket';
  if (flow.status === undefined) return 'no response';
  if (flow.error !== undefined || flow.incomplete) return 'broke off';
  if (flow.responseBody?.cut === true) return 'response body cut';
  return undefined;
}

/** Pass 1: every secret of the flow, request and response, so that pass 2 can find their echoes anywhere. */
function collectSecrets(flow: StoredFlow, redactor: Redactor): void {
  for (const [name, value] of flow.requestHeaders) redactor.header(name, value);
  for (const [name, value] of flow.responseHeaders) {
    redactor.header(name, value);
    // A redirect may carry a token in its query or fragment (`#access_token=…` of OAuth's implicit flow).
    if (/^(?:content-)?location$/i.test(name)) for (const part of value.split(/[?#]/).slice(1)) redactor.params(part);
  }
  const query = flow.url.split('#')[0]?.split('?')[1];
  if (query !== undefined) redactor.params(query);
  const requestType = flow.requestHeaders.find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  // A body without a textual Content-Type has no stored text; its bytes are still searched when not content-encoded.
  const body = flow.requestBody;
  const requestText = body?.text ?? (body !== undefined && body.contentEncoding === undefined ? body.raw.toString('utf8') : undefined);
  if (requestText !== undefined) {
    const parsed = parseJson(requestText);
    if (parsed.ok) redactor.json(parsed.value);
    else if (/^application\/x-www-form-urlencoded\b/i.test(requestType ?? '')) redactor.params(requestText);
  }
  const responseText = flow.responseBody?.text;
  const parsed = responseText === undefined ? undefined : parseJson(responseText);
  if (parsed?.ok) redactor.json(parsed.value);
}

/** Pass 2: the flow's exported parts (URL, response), redacted. */
function record(flow: StoredFlow, redactor: Redactor): Recording {
  const origin = /^[^:/?#]*:\/\/[^/?#]*/.exec(flow.url)?.[0] ?? '';
  const [pathname = '/', query] = (flow.url.slice(origin.length).split('#')[0] ?? '').split(/\?(.*)/s);
  const path = redactor.scrub(query === undefined ? pathname || '/' : `${pathname || '/'}?${redactor.params(query)}`);
  const segments = (path.split('?')[0] ?? '/').slice(1).split('/');
  const body = answerBody(flow, redactor);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of flow.responseHeaders) {
    const lower = name.toLowerCase();
    if (TRANSFER_HEADERS.has(lower) || (lower === 'content-encoding' && body.decoded)) continue;
    const redacted = redactor.isSecretHeader(lower) ? redactor.header(lower, value) : redactor.scrub(value);
    const previous = headers[lower];
    headers[lower] = previous === undefined ? redacted : [...(Array.isArray(previous) ? previous : [previous]), redacted];
  }
  return {
    method: flow.method.toUpperCase(),
    origin: redactor.scrub(origin.toLowerCase()),
    segments,
    answer: { path, status: flow.status ?? 200, headers, ...body.fields },
    signature: body.signature,
  };
}

interface AnswerBody {
  readonly fields: Pick<ExportedAnswer, 'json' | 'text' | 'base64'>;
  /** The body is exported decoded, so the recorded Content-Encoding no longer applies. */
  readonly decoded: boolean;
  readonly signature: string;
}

function answerBody(flow: StoredFlow, redactor: Redactor): AnswerBody {
  const essence = (flow.contentType?.split(';')[0] ?? '').trim().toLowerCase();
  const body = flow.responseBody;
  const text = body?.text;
  if (text !== undefined) {
    const parsed = /[/+]json$/.test(essence) ? parseJson(text) : { ok: false as const };
    if (parsed.ok) {
      const json = redactor.scrubJson(redactor.json(parsed.value));
      return { fields: { json }, decoded: true, signature: `${essence} ${renderType(typeOf(json))}` };
    }
    return { fields: text === '' ? {} : { text: redactor.scrub(text) }, decoded: true, signature: essence };
  }
  if (body === undefined || body.raw.length === 0) return { fields: {}, decoded: true, signature: essence || 'empty' };
  if (body.contentEncoding !== undefined) {
    // Bytes still content-encoded (an image sent gzipped): exported as recorded, with their Content-Encoding; not searchable.
    return { fields: { base64: body.raw.toString('base64') }, decoded: false, signature: essence };
  }
  // Binary, or text that is not UTF-8: searched byte for byte.
  const bytes = Buffer.from(redactor.scrub(body.raw.toString('latin1')), 'latin1');
  return { fields: { base64: bytes.toString('base64') }, decoded: false, signature: essence };
}

function endpoint(method: string, url: string, members: readonly PathEntry[], names: Set<string>): MockEndpoint {
  let type: JsonType | undefined;
  for (const entry of members) {
    if (entry.type !== undefined) type = type === undefined ? entry.type : mergeTypes(type, entry.type);
  }
  const answers = [...members].sort((a, b) => a.lastSeen - b.lastSeen).map((entry) => entry.last.answer);
  const name = uniqueName(ruleName(method, url), names);
  const typeName = type === undefined ? undefined : `${capital(name)}Response`;
  const recordings = members.reduce((sum, entry) => sum + entry.count, 0);
  return { name, typeName, type, method, url, answers, recordings };
}

/** `GET`, `http://api.test/users/:id` → `getUsersById`. */
function ruleName(method: string, url: string): string {
  const path = url.replace(/^[^:/?#]*:\/\/[^/?#]*/, '');
  const words = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? `By${capital(segment.slice(1))}` : capital(identifier(segment))))
    .filter((word) => word !== '');
  return `${identifier(method) || 'any'}${words.length === 0 ? 'Root' : words.join('')}`;
}

function capital(word: string): string {
  return `${word.slice(0, 1).toUpperCase()}${word.slice(1)}`;
}

function uniqueName(base: string, names: Set<string>): string {
  let name = base;
  for (let n = 2; names.has(name); n += 1) name = `${base}${n}`;
  names.add(name);
  return name;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
