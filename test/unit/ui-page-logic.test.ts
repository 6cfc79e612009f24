// The inspector page's pure parts: copy as HTTPie, flow id lists in URLs, row selection, which
// highlighter language a body gets; and the recorder's pins.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Flow } from '../../src/flow/flow.js';
import { readFileSync } from 'node:fs';
import { FlowStore } from '../../src/record/flow-store.js';
import { ImportedFlows } from '../../src/ui/sources/imported-flows.js';
import type { FlowDetail, FlowSummary } from '../../src/ui/api-types.js';
import { formatIdList, MAX_IDS, parseIdList } from '../../src/ui/id-list.js';
import { codeLanguage } from '../../src/ui/web/code-language.js';
import { toHttpie } from '../../src/ui/web/copy-as.js';
import { clickSelection, NO_SELECTION, shownId } from '../../src/ui/web/selection.js';

function detail(extra: Partial<FlowDetail>): FlowDetail {
  return {
    id: 1,
    method: 'POST',
    url: 'https://api.test/items?x=1',
    host: 'api.test',
    path: '/items?x=1',
    start: 0,
    incomplete: false,
    synthetic: false,
    tags: [],
    webSocket: false,
    requestHttpVersion: '1.1',
    requestHeaders: [],
    responseHeaders: [],
    timings: { start: 0 },
    phases: { send: 0, blocked: -1, connect: -1, ssl: -1, wait: 0, receive: 0 },
    client: { address: '127.0.0.1', port: 1 },
    ...extra,
  };
}

describe('copy as HTTPie', () => {
  it('sends the recorded headers but hop-by-hop, Host and Accept-Encoding, and the JSON body as is', () => {
    const flow = detail({
      requestHeaders: [
        ['Host', 'api.test'],
        ['Content-Type', 'application/json'],
        ['Accept-Encoding', 'gzip, br'],
        ['Connection', 'keep-alive'],
        ['Content-Length', '9'],
        ['X-Empty', ''],
        ['X-Quote', "it's"],
      ],
      requestBody: { size: 9, cut: false, mimeType: 'application/json', text: '{"a":"b"}' },
    });
    assert.equal(
      toHttpie(flow),
      `http --ignore-stdin POST 'https://api.test/items?x=1' 'Content-Type:application/json' 'X-Empty;' 'X-Quote:it'\\''s' --raw '{"a":"b"}'`,
    );
  });

  it('pipes a binary body in through base64', () => {
    const flow = detail({ method: 'PUT', requestBody: { size: 3, cut: false, mimeType: 'application/octet-stream', base64: 'AAH/' } });
    assert.equal(toHttpie(flow), `printf %s 'AAH/' | base64 -d | http PUT 'https://api.test/items?x=1'`);
  });

  it('sends a GET without a body', () => {
    assert.equal(toHttpie(detail({ method: 'GET' })), `http --ignore-stdin GET 'https://api.test/items?x=1'`);
  });
});

describe('flow id lists', () => {
  it('writes runs as ranges and reads them back', () => {
    assert.equal(formatIdList([7, 1, 2, 3, 3, 10, 11]), '1-3,7,10-11');
    assert.deepEqual([...(parseIdList('1-3,7,10-11') ?? [])], [1, 2, 3, 7, 10, 11]);
  });

  it('refuses what is not a list, a backwards range, or too many ids', () => {
    for (const bad of ['', 'a', '1,,2', '3-1', '-1', `1-${MAX_IDS + 1}`]) assert.equal(parseIdList(bad), undefined, bad);
  });
});

describe('row selection', () => {
  const rows = [1, 2, 3, 4, 5].map((id) => ({ id }) as FlowSummary);

  it('picks one row by a click, toggles by ctrl, adds a run by shift', () => {
    let picks = clickSelection(rows, NO_SELECTION, 2, { toggle: false, range: false });
    assert.deepEqual([...picks.ids], [2]);
    picks = clickSelection(rows, picks, 4, { toggle: false, range: true });
    assert.deepEqual([...picks.ids].sort(), [2, 3, 4]);
    picks = clickSelection(rows, picks, 3, { toggle: true, range: false });
    assert.deepEqual([...picks.ids].sort(), [2, 4]);
    picks = clickSelection(rows, picks, 5, { toggle: false, range: false });
    assert.deepEqual([...picks.ids], [5]);
  });

  it('shows imported ids apart', () => {
    assert.equal(shownId(12), '12');
    assert.equal(shownId(2 ** 40 + 3), 'i3');
  });
});

describe('highlighter language of a body', () => {
  it('knows HTML, XML, SVG, JavaScript, CSS and JSON types', () => {
    const cases: Record<string, string | undefined> = {
      'text/html': 'xml',
      'image/svg+xml': 'xml',
      'application/atom+xml': 'xml',
      'text/javascript': 'javascript',
      'application/x-javascript': 'javascript',
      'text/css': 'css',
      'application/problem+json': 'json',
      'text/plain': undefined,
      'image/png': undefined,
    };
    for (const [mime, language] of Object.entries(cases)) assert.equal(codeLanguage(mime), language, mime);
  });
});

describe('recorder pins', () => {
  const flow = (id: number): Flow => ({ id }) as Flow;

  it('keeps pinned flows across clear, and pins only kept flows', () => {
    const store = new FlowStore(10);
    for (const id of [1, 2, 3]) store.add(flow(id));
    assert.equal(store.pin(2), true);
    assert.equal(store.pin(9), false);
    store.clear();
    assert.deepEqual(
      store.flows.map((kept) => kept.id),
      [2],
    );
    assert.equal(store.pin(2, false), true);
    store.clear();
    assert.deepEqual(store.flows, []);
    assert.equal(store.pinned.size, 0);
  });

  it('forgets the pin of a flow that left the ring', () => {
    const store = new FlowStore(8);
    for (let id = 1; id <= 8; id++) store.add(flow(id));
    assert.equal(store.pin(1), true);
    for (let id = 9; id <= 20; id++) store.add(flow(id));
    assert.equal(
      store.flows.some((kept) => kept.id === 1),
      false,
    );
    assert.equal(store.pinned.has(1), false);
  });

  it("keeps a pinned imported flow past the inspector's own limit, and evicts the oldest others", () => {
    const har = readFileSync(new URL('../fixtures/chrome-devtools.har', import.meta.url), 'utf8');
    const first = new ImportedFlows(1_000_000).add(har, 'probe.har').length;
    assert.ok(first >= 2, 'the fixture has several entries');
    const imported = new ImportedFlows(first);
    const [oldest, second] = imported.add(har, 'one.har').map((entry) => entry.summary.id);
    assert.ok(oldest !== undefined && second !== undefined);
    assert.equal(imported.pin(oldest, true), true);
    imported.add(har, 'two.har');
    const kept = new Set(imported.matching(() => true).map((stored) => stored.id));
    assert.equal(kept.size, first);
    assert.ok(kept.has(oldest), 'the pinned flow stays');
    assert.ok(!kept.has(second), 'the oldest unpinned one went');
  });
});
