import type { Flow } from '../flow/flow.js';
import type { HeaderMap } from '../flow/header-map.js';
import { DataRule, type MockRuleData } from './mock-data.js';
import { MockRule, type MockCriteria } from './mock-rule.js';
import type { Hook } from './types.js';
import { MitmError } from '../errors.js';
import type { UrlPattern } from './url-pattern.js';

/** A request the mock answered. */
export interface MockCall {
  readonly method: string;
  readonly url: string;
  readonly headers: HeaderMap;
  /** The decoded request body as text; undefined when it could not be read (too large, undecodable). */
  readonly body: string | undefined;
  /** The rule that answered, e.g. `POST https://api.test/users`. */
  readonly rule: string;
}

/** Options of `mockServer`. */
export interface MockServerOptions {
  /** `pass` (default) forwards unmatched requests to the origin; `fail` answers them 501. */
  readonly unmatched?: 'pass' | 'fail';
  /** Rules as data (e.g. the default export of `mitm mocks export`), tried in order before rules declared with `on()`, `get()`…. */
  readonly rules?: readonly MockRuleData[];
}

/** A rule-based mock for tests: a hook itself (`proxy.use(mock)`, or `mock.hook`, the same object), then declare rules. */
export interface MockServer extends Hook {
  readonly hook: Hook;
  /** Requests the mock answered, oldest first. */
  readonly calls: readonly MockCall[];
  /** Rules not yet used as often as declared, described with their counts; `[]` when all were. */
  pending(): string[];
  on(method: string | undefined, url: UrlPattern, criteria?: MockCriteria): MockRule;
  get(url: UrlPattern, criteria?: MockCriteria): MockRule;
  post(url: UrlPattern, criteria?: MockCriteria): MockRule;
  put(url: UrlPattern, criteria?: MockCriteria): MockRule;
  patch(url: UrlPattern, criteria?: MockCriteria): MockRule;
  delete(url: UrlPattern, criteria?: MockCriteria): MockRule;
  /** Any method. */
  any(url: UrlPattern, criteria?: MockCriteria): MockRule;
}

/** Creates a rule-style mock: the first unexhausted rule matching method, URL, headers and body answers; mocked flows are tagged `mocked`. */
export function mockServer(options: MockServerOptions = {}): MockServer {
  const given = options.rules ?? [];
  if (!Array.isArray(given)) throw new MitmError('config_invalid', 'mockServer rules: expected an array of rules');
  const rules: Array<MockRule | DataRule> = given.map((data, i) => new DataRule(data, `rules[${i}]`));
  const calls: MockCall[] = [];
  const on = (method: string | undefined, url: UrlPattern, criteria: MockCriteria = {}): MockRule => {
    const rule = new MockRule(method, url, criteria);
    rules.push(rule);
    return rule;
  };
  const onRequest = async (flow: Flow): Promise<void> => {
    for (const rule of rules) {
      // Checked again after the await: a concurrent request may have used up a once() rule meanwhile.
      if (!(await rule.matches(flow)) || rule.exhausted) continue;
      rule.answer(flow);
      flow.tags.add('mocked');
      const { method, url, headers } = flow.request;
      const body = await flow.request.text().catch(() => undefined);
      calls.push({ method, url, headers: { ...headers }, body, rule: rule.description });
      return;
    }
    if (options.unmatched !== 'fail') return;
    const listing = rules.map((rule) => `  ${rule.toString()}`).join('\n') || '  (none)';
    flow.respond({
      status: 501,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: `no mock rule matches ${flow.request.method} ${flow.request.url}\nrules:\n${listing}\n`,
    });
    flow.tags.add('mock-unmatched');
  };
  const server: MockServer = {
    name: 'mockServer',
    onRequest,
    get hook(): Hook {
      return server;
    },
    calls,
    pending: () => rules.filter((rule) => rule.pending).map((rule) => rule.toString()),
    on,
    get: (url, criteria) => on('GET', url, criteria),
    post: (url, criteria) => on('POST', url, criteria),
    put: (url, criteria) => on('PUT', url, criteria),
    patch: (url, criteria) => on('PATCH', url, criteria),
    delete: (url, criteria) => on('DELETE', url, criteria),
    any: (url, criteria) => on(undefined, url, criteria),
  };
  return server;
}
