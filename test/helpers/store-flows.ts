import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Body } from '../../src/flow/body.js';
import { Flow, FlowRequest, FlowResponse } from '../../src/flow/flow.js';
import { WebSocketLog } from '../../src/flow/ws-message.js';

/** What `makeFlow` builds. */
export interface FlowSpec {
  readonly id: number;
  readonly method?: string;
  readonly url?: string;
  readonly requestHeaders?: readonly string[];
  readonly requestBody?: Buffer | string | undefined;
  readonly status?: number;
  readonly responseHeaders?: readonly string[];
  readonly responseBody?: Buffer | string;
  /** Bytes kept by the recorder (the flow's --record-body-limit); default 1 MiB. */
  readonly recordLimit?: number;
  readonly noResponse?: boolean;
  readonly tags?: readonly string[];
  readonly user?: string;
  readonly webSocket?: readonly {
    readonly direction: 'client-to-server' | 'server-to-client';
    readonly type: 'text' | 'binary';
    readonly data: Buffer;
  }[];
}

function recordedBody(data: Buffer | string | undefined, recordLimit: number): Body {
  const body = new Body(undefined, { cap: 0, what: 'a test body', recordLimit });
  if (data !== undefined) body.recordSent({ kind: 'bytes', data: Buffer.from(data), replaced: false });
  return body;
}

/** A finished Flow as the proxy would hand it to onFlowEnd, built without a proxy. */
export function makeFlow(spec: FlowSpec): Flow {
  const recordLimit = spec.recordLimit ?? 2 ** 20;
  const start = 1_700_000_000_000 + spec.id;
  const request = new FlowRequest({
    method: spec.method ?? 'GET',
    url: spec.url ?? `https://example.test/items/${spec.id}?q=1`,
    rawHeaders: spec.requestHeaders ?? ['Host', 'example.test', 'Accept', '*/*'],
    httpVersion: '1.1',
    body: recordedBody(spec.requestBody, recordLimit),
  });
  const flow = new Flow({
    id: spec.id,
    connectionId: 7,
    client: { address: '127.0.0.1', port: 5000, ...(spec.user ? { user: spec.user } : {}) },
    request,
    start,
  });
  if (!spec.noResponse) {
    flow.response = new FlowResponse({
      status: spec.status ?? 200,
      statusMessage: 'OK',
      rawHeaders: spec.responseHeaders ?? ['Content-Type', 'text/plain; charset=utf-8'],
      httpVersion: '1.1',
      body: recordedBody(spec.responseBody, recordLimit),
      synthetic: false,
    });
  }
  flow.server = { address: '127.0.0.1', port: 443 };
  flow.timings.requestSent = start + 1;
  flow.timings.responseStart = start + 5;
  flow.timings.end = start + 9;
  for (const tag of spec.tags ?? []) flow.tags.add(tag);
  if (spec.webSocket) {
    const log = new WebSocketLog(recordLimit);
    for (const message of spec.webSocket) log.add(message.direction, message.type, message.data, message.data.length, start + 3);
    flow.webSocket = log;
  }
  return flow;
}

/** A fresh temporary folder and its removal. */
export async function tempDir(prefix: string): Promise<{ readonly dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The body of flow `id` in store-writer-child.ts: recognisable, and large enough that a batch spans many pages. */
export function killBody(id: number): string {
  return `flow ${id} `.repeat(200);
}
