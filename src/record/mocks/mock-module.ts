import type { MockEndpoint, MockExport } from './export-mocks.js';
import { renderType } from './infer-type.js';

/** The file names `mitm mocks export` writes into its folder. */
export const MOCK_FILES = { module: 'index.ts', json: 'mocks.json' } as const;

/** `mocks.json`: the rules by name, as `MockRuleData` objects. */
export function mocksJson(exported: MockExport): string {
  const rules = Object.fromEntries(
    exported.endpoints.map((endpoint) => [endpoint.name, { method: endpoint.method, url: endpoint.url, answers: endpoint.answers }]),
  );
  return `${JSON.stringify(rules, null, 2)}\n`;
}

/**
 * `index.ts`: a response type per endpoint answered with JSON, the rules read from mocks.json and
 * typed with them, and the list of rules as the default export, in match order.
 */
export function mocksModule(exported: MockExport, source: string): string {
  const { endpoints } = exported;
  const from = source.replace(/[\r\n]+/g, ' ');
  const types = endpoints.filter((endpoint) => endpoint.type !== undefined && endpoint.typeName !== undefined);
  const lines = [
    `// Mock rules exported by \`mitm mocks export\` from ${from}: ${endpoints.length} endpoints from ${exported.flows} flows.`,
    `// The rules are read from ${MOCK_FILES.json} next to this file; docs/mocks.md describes both. Use them with`,
    `//   import mocks from './<this folder>/${MOCK_FILES.module}';  proxy.use(mockServer({ rules: mocks }));`,
    "import { readFileSync } from 'node:fs';",
    "import type { MockRuleData } from 'mitm';",
    '',
    ...types.flatMap((endpoint) => [
      `/** The response body of ${describe(endpoint)}. */`,
      `export type ${endpoint.typeName} = ${renderType(endpoint.type as NonNullable<MockEndpoint['type']>)};`,
      '',
    ]),
    '/** The rules by name. */',
    'export interface Mocks {',
    ...endpoints.flatMap((endpoint) => [
      `  /** ${describe(endpoint)} */`,
      `  readonly ${endpoint.name}: MockRuleData${endpoint.typeName === undefined ? '' : `<${endpoint.typeName}>`};`,
    ]),
    '}',
    '',
    `/** The rules by name, read from ${MOCK_FILES.json}. */`,
    `export const rules: Mocks = JSON.parse(readFileSync(new URL('./${MOCK_FILES.json}', import.meta.url), 'utf8'));`,
    '',
    '/** Every rule, in match order (fewer path parameters first): `mockServer({ rules: mocks })`. */',
    'const mocks: readonly MockRuleData[] = [',
    ...endpoints.map((endpoint) => `  rules.${endpoint.name},`),
    '];',
    'export default mocks;',
    '',
  ];
  return lines.join('\n');
}

/** `GET http://api.test/users/:id (3 recordings, 2 answers)`, safe inside a comment. */
function describe(endpoint: MockEndpoint): string {
  const counts = `${endpoint.recordings} recording${endpoint.recordings === 1 ? '' : 's'}, ${endpoint.answers.length} answer${endpoint.answers.length === 1 ? '' : 's'}`;
  return `${endpoint.method} ${endpoint.url} (${counts})`.replaceAll('*/', '*\\/');
}
