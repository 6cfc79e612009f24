import type { IncomingMessage, ServerResponse } from 'node:http';

/** What `editEcho` answers with: what the origin received of a held or replayed request. */
export interface EditEcho {
  readonly method: string;
  readonly path: string;
  /** The `x-edit` header the test set while the request was held or replayed; null without one. */
  readonly edit: string | null;
  readonly body: string;
}

/** An origin handler answering with what it received as JSON (`EditEcho`), marked `x-origin: yes`. */
export function editEcho(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.stringify({
      method: req.method,
      path: req.url,
      edit: req.headers['x-edit'] ?? null,
      body: Buffer.concat(chunks).toString(),
    });
    res.writeHead(200, { 'content-type': 'application/json', 'x-origin': 'yes' }).end(body);
  });
}
