import type { Flow } from '../flow/flow.js';
import type { HeaderMap } from '../flow/header-map.js';
import { matchesBody, matchesHeaders, type BodyMatcher, type HeaderMatchers } from './mock-match.js';
import { urlMatcher, type UrlMatcher, type UrlPattern } from './url-pattern.js';

/** Extra conditions of a mock rule, besides method and URL. */
export interface MockCriteria {
  /** Each named request header must be present and equal (string) or match (RegExp). */
  readonly headers?: HeaderMatchers;
  /** The decoded request body: equal text, a RegExp it matches, or a JSON object it contains. */
  readonly body?: BodyMatcher;
  /** Only flows this predicate accepts (e.g. `flowFilter('method:POST header:x-test')`). */
  readonly filter?: (flow: Flow) => boolean;
}

/** One mock rule: what it matches, what it answers, and how often. */
export class MockRule {
  readonly #method: string | undefined;
  readonly #url: UrlMatcher;
  readonly #criteria: MockCriteria;
  #reply: { status: number; headers: HeaderMap; body: string | Buffer } = { status: 200, headers: {}, body: '' };
  #limit = Number.POSITIVE_INFINITY;
  #used = 0;

  constructor(method: string | undefined, url: UrlPattern, criteria: MockCriteria) {
    this.#method = method?.toUpperCase();
    this.#url = urlMatcher(url);
    this.#criteria = criteria;
  }

  /** Answers with `status`; an object or array body is sent as JSON, a string as text. */
  reply(status: number, body?: unknown, headers: Readonly<Record<string, string>> = {}): this {
    const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
    const { data, type } = replyBody(body);
    this.#reply = { status, body: data, headers: type && !lower['content-type'] ? { 'content-type': type, ...lower } : lower };
    return this;
  }

  /** Answers at most `n` requests; later ones fall through to the next rule (or the origin). */
  times(n: number): this {
    this.#limit = n;
    return this;
  }

  /** Answers one request only. */
  once(): this {
    return this.times(1);
  }

  /** How many requests this rule answered. */
  get used(): number {
    return this.#used;
  }

  /** True once the rule answered as often as `times` allows. */
  get exhausted(): boolean {
    return this.#used >= this.#limit;
  }

  /** True while the rule has not answered as often as it should (at least once when unlimited). */
  get pending(): boolean {
    return Number.isFinite(this.#limit) ? this.used < this.#limit : this.used === 0;
  }

  /** What the rule matches, e.g. `POST https://api.test/users`. */
  get description(): string {
    return `${this.#method ?? '*'} ${this.#url.source}`;
  }

  /** The description with its use count, e.g. `POST https://api.test/users (1 of 2 used)`. */
  toString(): string {
    const count = Number.isFinite(this.#limit) ? `${this.#used} of ${this.#limit} used` : `${this.#used} used`;
    return `${this.description} (${count})`;
  }

  /** True when this rule may answer `flow`; reads the request body only if it has a body condition. */
  async matches(flow: Flow): Promise<boolean> {
    const { request } = flow;
    if (this.exhausted) return false;
    if (this.#method !== undefined && this.#method !== request.method.toUpperCase()) return false;
    if (!this.#url.test(request.url)) return false;
    if (this.#criteria.filter && !this.#criteria.filter(flow)) return false;
    if (this.#criteria.headers && !matchesHeaders(request.headers, this.#criteria.headers)) return false;
    return this.#criteria.body === undefined || matchesBody(await request.text().catch(() => undefined), this.#criteria.body);
  }

  /** Answers `flow` and counts the use. */
  answer(flow: Flow): void {
    this.#used += 1;
    flow.respond(this.#reply);
  }
}

/** The bytes and default content type of a reply body. */
function replyBody(body: unknown): { data: string | Buffer; type: string | undefined } {
  if (body === undefined) return { data: '', type: undefined };
  if (Buffer.isBuffer(body)) return { data: body, type: 'application/octet-stream' };
  if (typeof body === 'string') return { data: body, type: 'text/plain; charset=utf-8' };
  return { data: JSON.stringify(body), type: 'application/json' };
}
