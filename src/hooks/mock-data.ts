import { MitmError } from '../errors.js';
import type { Flow, ResponseInit } from '../flow/flow.js';
import type { HeaderMap } from '../flow/header-map.js';
import { urlTemplate, type UrlTemplate } from './url-template.js';

/** One recorded answer of a data rule; at most one of `json`, `text` and `base64` is the body. */
export interface MockAnswer<Body = unknown> {
  /** The path and query it was recorded for (`/users/1?full=1`); requests for it get this answer. */
  readonly path?: string;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** A JSON body (sent with `content-type: application/json` unless `headers` name one). */
  readonly json?: Body;
  /** A text body, sent as it is. */
  readonly text?: string;
  /** A binary body, base64-encoded. */
  readonly base64?: string;
}

/**
 * A mock rule as plain data (what `mitm mocks export` writes): `mockServer({ rules: [...] })`.
 * A request matches when its method is `method` (any when omitted) and its URL fits `url`, a
 * template whose `:name` segments match one path segment (`https://api.test/users/:id`; the query
 * is not compared). It gets the answer recorded for its path and query, else the last one recorded
 * for its path, else the last answer of the list.
 */
export interface MockRuleData<Body = unknown> {
  readonly method?: string;
  readonly url: string;
  readonly answers: readonly MockAnswer<Body>[];
}

/** A data rule compiled for `mockServer`; answers any number of requests. */
export class DataRule {
  readonly #method: string | undefined;
  readonly #url: UrlTemplate;
  readonly #answers: readonly MockAnswer[];
  #used = 0;
  /** Data rules are never used up. */
  readonly exhausted = false;

  /** Checks `data` (naming `where`, e.g. `rules[2]`, in the error) and compiles it. */
  constructor(data: MockRuleData, where: string) {
    const fail = (what: string): never => {
      throw new MitmError('config_invalid', `mockServer ${where}${what}`);
    };
    if (typeof data !== 'object' || data === null) fail(': expected an object { method?, url, answers }');
    if (data.method !== undefined && (typeof data.method !== 'string' || !/^[A-Za-z]+$/.test(data.method)))
      fail(`.method: expected an HTTP method such as GET, got ${JSON.stringify(data.method)}`);
    if (typeof data.url !== 'string') fail('.url: expected a URL template string');
    try {
      this.#url = urlTemplate(data.url);
    } catch (error) {
      throw new MitmError('config_invalid', `mockServer ${where}.url: ${(error as Error).message}`);
    }
    if (!Array.isArray(data.answers) || data.answers.length === 0) fail('.answers: expected a non-empty array');
    for (const [i, answer] of data.answers.entries()) checkAnswer(answer, (what) => fail(`.answers[${i}]${what}`));
    this.#method = data.method?.toUpperCase();
    this.#answers = data.answers;
  }

  /** True until the rule answered once. */
  get pending(): boolean {
    return this.#used === 0;
  }

  /** What the rule matches, e.g. `GET https://api.test/users/:id`. */
  get description(): string {
    return `${this.#method ?? '*'} ${this.#url.source}`;
  }

  /** The description with its use count. */
  toString(): string {
    return `${this.description} (${this.#used} used)`;
  }

  /** True when the method and the URL template fit the request. */
  async matches(flow: Flow): Promise<boolean> {
    const { request } = flow;
    if (this.#method !== undefined && this.#method !== request.method.toUpperCase()) return false;
    return this.#url.match(request.url) !== undefined;
  }

  /** Answers with the answer recorded for the request's path and query, else for its path, else the last. */
  answer(flow: Flow): void {
    this.#used += 1;
    flow.respond(responseOf(pick(this.#answers, flow.request.url)));
  }
}

/** The answer for `url`: same path and query, else the last with the same path, else the last. */
function pick(answers: readonly MockAnswer[], url: string): MockAnswer {
  const target = url.replace(/^[^:/?#]*:\/\/[^/?#]*/, '').split('#')[0] || '/';
  const pathOnly = (path: string): string => path.split('?')[0] ?? path;
  return (
    answers.find((answer) => answer.path === target) ??
    answers.findLast((answer) => answer.path !== undefined && pathOnly(answer.path) === pathOnly(target)) ??
    (answers.at(-1) as MockAnswer)
  );
}

function responseOf(answer: MockAnswer): ResponseInit {
  const headers: HeaderMap = {};
  for (const [name, value] of Object.entries(answer.headers ?? {}))
    headers[name.toLowerCase()] = typeof value === 'string' ? value : [...value];
  if (answer.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    return { status: answer.status, headers, body: JSON.stringify(answer.json) };
  }
  if (answer.base64 !== undefined) return { status: answer.status, headers, body: Buffer.from(answer.base64, 'base64') };
  return { status: answer.status, headers, body: answer.text ?? '' };
}

function checkAnswer(answer: MockAnswer, fail: (what: string) => never): void {
  if (typeof answer !== 'object' || answer === null) fail(': expected an object { status, headers?, json | text | base64 }');
  if (!Number.isInteger(answer.status) || answer.status < 100 || answer.status > 599)
    fail(`.status: expected 100–599, got ${JSON.stringify(answer.status)}`);
  if (answer.path !== undefined && (typeof answer.path !== 'string' || !answer.path.startsWith('/')))
    fail(`.path: expected a path starting with /, got ${JSON.stringify(answer.path)}`);
  const bodies = (['json', 'text', 'base64'] as const).filter((key) => answer[key] !== undefined);
  if (bodies.length > 1) fail(`: has ${bodies.join(' and ')}; give at most one body`);
  if (answer.text !== undefined && typeof answer.text !== 'string') fail('.text: expected a string');
  if (answer.base64 !== undefined && typeof answer.base64 !== 'string') fail('.base64: expected a base64 string');
  for (const [name, value] of Object.entries(answer.headers ?? {})) {
    const ok = typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'));
    if (!ok) fail(`.headers[${JSON.stringify(name)}]: expected a string or an array of strings`);
  }
}
