import { StringDecoder } from 'node:string_decoder';

/** One server-sent event (WHATWG HTML §9.2), as `onServerSentEvent` hooks see and change it. */
export interface ServerSentEvent {
  /** The `event:` field; undefined means the default type, "message". */
  event?: string | undefined;
  /** The `data:` lines joined with "\n". */
  data: string;
  id?: string | undefined;
  retry?: number | undefined;
}

/** What a hook returns per event: nothing (keep it, with any changes), null (drop it), or events to send instead. */
// biome-ignore lint/suspicious/noConfusingVoidType: public hook API: a hook that returns nothing (a void function) keeps the event.
export type ServerSentEventVerdict = ServerSentEvent | ServerSentEvent[] | null | undefined | void;

/** A parsed block of an event stream: an event with the exact text it came as, or text to pass on as is (comments). */
export type StreamBlock =
  | { readonly kind: 'event'; readonly event: ServerSentEvent; readonly raw: string }
  | { readonly kind: 'text'; readonly raw: string };

// Two line ends in a row; CRLF is one line end, so a CR counts alone only when no LF follows it.
const BLANK_LINE = /(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r(?!\n))/;

/**
 * Splits an event stream into blocks as bytes arrive. A block ends at a blank line; line ends
 * may be CRLF, LF or CR, as the spec allows, so a CR at the end of a chunk waits for the next one.
 */
export class EventStreamParser {
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';

  /** Feeds bytes; returns the blocks they complete. */
  push(chunk: Buffer): StreamBlock[] {
    this.#pending += this.#decoder.write(chunk);
    const blocks: StreamBlock[] = [];
    for (;;) {
      const end = BLANK_LINE.exec(this.#pending);
      // A lone trailing CR may be the first half of CRLF: wait for more.
      if (!end || (end.index + end[0].length === this.#pending.length && end[0].endsWith('\r'))) break;
      const raw = this.#pending.slice(0, end.index + end[0].length);
      this.#pending = this.#pending.slice(raw.length);
      blocks.push(parseBlock(raw));
    }
    return blocks;
  }

  /** Characters held waiting for the blank line that ends their block. */
  get pendingLength(): number {
    return this.#pending.length;
  }

  /** What is left when the stream ends (an unterminated block is not an event, per spec). */
  end(): string {
    return this.#pending + this.#decoder.end();
  }
}

function parseBlock(raw: string): StreamBlock {
  const event: ServerSentEvent = { data: '' };
  const data: string[] = [];
  let hasField = false;
  for (const line of raw.split(/\r\n|\n|\r/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    hasField = true;
    if (name === 'data') data.push(value);
    else if (name === 'event') event.event = value;
    else if (name === 'id') event.id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) event.retry = Number(value);
  }
  if (!hasField) return { kind: 'text', raw };
  event.data = data.join('\n');
  return { kind: 'event', event, raw };
}

/** The complete events of an event-stream text (an unterminated last block is not one). */
export function eventsOf(text: string): ServerSentEvent[] {
  return new EventStreamParser().push(Buffer.from(text)).flatMap((block) => (block.kind === 'event' ? [block.event] : []));
}

/** The wire form of an event. */
export function serializeEvent(event: ServerSentEvent): string {
  let out = '';
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  if (event.retry !== undefined) out += `retry: ${event.retry}\n`;
  for (const line of event.data.split(/\r\n|\n|\r/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** True when two events carry the same fields: an unchanged event is sent as its original bytes. */
export function sameEvent(a: ServerSentEvent, b: ServerSentEvent): boolean {
  return a.event === b.event && a.data === b.data && a.id === b.id && a.retry === b.retry;
}

/**
 * Runs every event of `source` through `transform` as it arrives and yields the resulting wire
 * bytes: chunk by chunk, so the first event reaches the client at once, not when the stream ends.
 * Unchanged events and comments keep their exact original bytes. A block (an event, or a line
 * that never ends) longer than `maxBlock` characters is not held in memory: from there on the rest
 * of the stream is passed through unparsed.
 */
export async function* rewriteEventStream(
  source: AsyncIterable<Buffer>,
  transform: (event: ServerSentEvent) => Promise<readonly ServerSentEvent[]>,
  maxBlock = Number.POSITIVE_INFINITY,
): AsyncGenerator<Buffer> {
  const parser = new EventStreamParser();
  let parsing = true;
  for await (const chunk of source) {
    if (!parsing) {
      yield chunk;
      continue;
    }
    let out = '';
    for (const block of parser.push(chunk)) {
      if (block.kind === 'text') {
        out += block.raw;
        continue;
      }
      const before = { ...block.event };
      const after = await transform(block.event);
      const untouched = after.length === 1 && after[0] === block.event && sameEvent(block.event, before);
      out += untouched ? block.raw : after.map(serializeEvent).join('');
    }
    if (parser.pendingLength > maxBlock) {
      parsing = false;
      out += parser.end();
    }
    if (out !== '') yield Buffer.from(out);
  }
  if (!parsing) return;
  const rest = parser.end();
  if (rest !== '') yield Buffer.from(rest);
}
