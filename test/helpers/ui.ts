import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFilter, subjectOfRecord, type FilterSubject } from '../../src/record/filter/filter.js';
import type { ConnectionEvent, FlowDetail, FlowSummary } from '../../src/ui/api-types.js';
import type { SourceListener, UiSource } from '../../src/ui/sources/source.js';
import { run } from './run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let built: Promise<string> | undefined;

/** Builds the front end once per process into a temporary folder (what `npm run build` puts in dist/ui/public). */
export function buildUiAssets(): Promise<string> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mitm-ui-assets-'));
    const result = await run(process.execPath, [join(ROOT, 'scripts/build-ui.mjs'), dir]);
    if (result.code !== 0) throw new Error(`building the UI failed: ${result.stderr.toString()}`);
    return dir;
  })();
  return built;
}

/** An answer from the inspector, read whole. */
export interface UiAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** A plain HTTP request to the inspector at `port` with exactly the headers given (Host included). */
export function uiRequest(
  port: number,
  path: string,
  options: { readonly method?: string; readonly headers?: Record<string, string>; readonly body?: string } = {},
): Promise<UiAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A UiSource over summaries a test makes up: for load tests and for the access checks without a proxy. */
export class MemorySource implements UiSource {
  readonly kind = 'proxy' as const;
  readonly readOnly = false;
  readonly flows: FlowSummary[] = [];
  readonly #listeners = new Set<SourceListener>();

  /** Adds a flow and tells subscribers, as a proxy's 'flow' event would. */
  push(summary: FlowSummary): void {
    this.flows.push(summary);
    for (const listener of this.#listeners) listener.flow?.(summary, subjectOf(summary));
  }

  list(filter: (subject: FilterSubject) => boolean, options: { limit?: number | undefined; offset?: number | undefined } = {}) {
    const all = this.flows.filter((flow) => filter(subjectOf(flow)));
    const offset = options.offset ?? 0;
    return { total: all.length, flows: all.slice(offset, options.limit === undefined ? undefined : offset + options.limit) };
  }

  detail(id: number): FlowDetail | undefined {
    const flow = this.flows.find((candidate) => candidate.id === id);
    if (!flow) return undefined;
    return {
      ...flow,
      requestHttpVersion: '1.1',
      requestHeaders: [['host', flow.host]],
      responseHeaders: [],
      timings: { start: flow.start },
      phases: { send: 0, blocked: -1, connect: -1, ssl: -1, wait: 0, receive: 0 },
      client: { address: '127.0.0.1', port: 1 },
    };
  }

  har() {
    return { log: { version: '1.2', creator: { name: 'test', version: '0' }, pages: [], entries: [] } };
  }

  connections(): readonly ConnectionEvent[] {
    return [];
  }

  stats() {
    return { source: 'proxy' as const, readOnly: false, flows: this.flows.length, connections: 0 };
  }

  caPem(): string | undefined {
    return undefined;
  }

  clear(): void {
    this.flows.length = 0;
    for (const listener of this.#listeners) listener.cleared?.([]);
  }

  pin(): boolean {
    return false;
  }

  importHar(): FlowSummary[] {
    return [];
  }

  subscribe(listener: SourceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
  }
}

/** A made-up flow row: `id`, on host `h{id % 50}.test`, status 200 (every 7th a 500). */
export function fakeSummary(id: number): FlowSummary {
  const host = `h${id % 50}.test`;
  return {
    id,
    method: id % 3 === 0 ? 'POST' : 'GET',
    url: `https://${host}/item/${id}`,
    host,
    path: `/item/${id}`,
    status: id % 7 === 0 ? 500 : 200,
    type: 'application/json',
    size: 100 + id,
    durationMs: id % 100,
    start: Date.now(),
    incomplete: false,
    synthetic: false,
    tags: [],
    webSocket: false,
  };
}

function subjectOf(flow: FlowSummary): FilterSubject {
  return subjectOfRecord({
    id: flow.id,
    method: flow.method,
    url: flow.url,
    status: flow.status,
    contentType: flow.type,
    responseBytes: flow.size ?? 0,
    durationMs: flow.durationMs ?? 0,
    error: undefined,
    client: { address: '127.0.0.1', port: 1 },
    mode: 'regular',
  });
}

/** Checks the filter compiles (a test's own typo would otherwise look like a UI failure). */
export function assertFilter(text: string): void {
  compileFilter(text);
}
