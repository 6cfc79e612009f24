import type { EventEmitter } from 'node:events';
import { ERROR_CODES } from '../../errors.js';
import type {
  AutoPassthroughRecord,
  ClientIssue,
  FlowRecord,
  HookFault,
  MessageRecord,
  ProxyEventMap,
  TunnelRecord,
} from '../../events.js';
import { compileFilter, subjectOfFlow, subjectOfRecord } from '../../record/filter/filter.js';
import { detailLines } from './detail-text.js';
import { flowDetail, type FlowDetail } from './flow-detail.js';
import { writeLine, type Io } from './io.js';
import { PLAIN, type TermStyle } from './term-style.js';

const UNITS = ['kB', 'MB', 'GB', 'TB'] as const;

/** Formats a byte count in SI units with one decimal: `512 B`, `12.3 kB`, `4.0 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes / 1000;
  let unit = 0;
  // Compare after rounding, so 999 950 bytes reads `1.0 MB` rather than `1000.0 kB`.
  while (Number(value.toFixed(1)) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit] ?? 'TB'}`;
}

/** Formats a duration: whole milliseconds below 10 s (`45 ms`), then seconds with one decimal (`12.3 s`). */
export function formatDuration(ms: number): string {
  return ms < 9999.5 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One readable line for a finished exchange: `GET https://host/path 200 text/html 12.3 kB 45 ms`. */
export function formatFlow(flow: FlowRecord): string {
  const parts = [flow.method, flow.url, flow.status === undefined ? '---' : String(flow.status)];
  if (flow.error === undefined) {
    // The media type alone: `; charset=utf-8` adds width, not information, to a one-line log.
    const mediaType = flow.contentType?.split(';')[0]?.trim();
    if (mediaType) parts.push(mediaType);
    parts.push(formatBytes(flow.responseBytes), formatDuration(flow.durationMs));
  } else {
    parts.push(flow.error.code);
    // An abort mid-body still delivered something; the size says how far it got.
    if (flow.error.code === 'aborted') parts.push(formatBytes(flow.responseBytes));
    parts.push(formatDuration(flow.durationMs), `(${flow.error.message})`);
  }
  return printable(parts.join(' '));
}

/**
 * One readable line for a tunnel: `CONNECT host:443 tunnelled (passthrough)` or its failure; one
 * a transparent listener opened says `transparent` instead, as no CONNECT was sent.
 */
export function formatTunnel(tunnel: TunnelRecord): string {
  const target = `${tunnel.client.mode === 'transparent' ? 'transparent' : 'CONNECT'} ${hostPort(tunnel.host, tunnel.port)}`;
  if (tunnel.error === undefined) {
    return printable(`${target} tunnelled (${tunnel.reason === 'passthrough' ? 'passthrough' : 'not intercepted'})`);
  }
  const status = ERROR_CODES[tunnel.error.code].status ?? '---';
  return printable(`${target} ${status} ${tunnel.error.code} (${tunnel.error.message})`);
}

/**
 * One readable line for a WebSocket message or server-sent event as it passes (`--flow-detail 4`):
 * `ws → wss://host/chat text 5 B 12:00:01.250: hello`, its text cut at `textLimit` bytes.
 */
export function formatMessage(message: MessageRecord, textLimit: number, style: TermStyle = PLAIN): string {
  const arrow = message.direction === 'client-to-server' ? style.cyan('→') : style.magenta('←');
  const time = new Date(message.time).toISOString().slice(11, 23);
  const url = message.kind === 'websocket' ? message.url.replace(/^http(s?):/i, 'ws$1:') : message.url;
  const text = message.text === undefined ? '' : `: ${cutText(message.text, textLimit)}`;
  return `${message.kind === 'websocket' ? 'ws' : 'sse'} ${arrow} ${printable(`${url} ${message.type} ${formatBytes(message.size)} ${time}${text}`)}`;
}

/** `text` cut to at most `limit` UTF-8 bytes, an ellipsis marking the cut. */
function cutText(text: string, limit: number): string {
  if (Buffer.byteLength(text) <= limit) return text;
  // A cut inside a multi-byte character leaves a replacement character; toString drops none.
  return `${Buffer.from(text)
    .subarray(0, limit)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}…`;
}

/** One JSON line for a passing message: the MessageRecord with `event: "message"`, its text cut at `textLimit` bytes. */
export function formatMessageJson(message: MessageRecord, textLimit: number): string {
  return jsonLine({ event: 'message', ...message, ...(message.text === undefined ? {} : { text: cutText(message.text, textLimit) }) });
}

/** One readable line for a client connection that failed before any request. */
export function formatClientIssue(issue: ClientIssue): string {
  const from = hostPort(issue.client.address, issue.client.port);
  const forHost = issue.host === undefined ? '' : ` for ${issue.host}`;
  return printable(`client ${from}${forHost}: ${issue.code} (${issue.message})`);
}

/** One line when --auto-passthrough starts tunnelling a host: `example.com:443: the client rejected our certificate (unknown_ca); …`. */
export function formatAutoPassthrough(record: AutoPassthroughRecord): string {
  const how = /^[a-z_]+$/.test(record.reason) ? `rejected our certificate (${record.reason})` : record.reason;
  return printable(`${hostPort(record.host, record.port)}: the client ${how}; tunnelling it untouched from now on`);
}

/**
 * One JSON line for a finished exchange, for `jq` and log shippers: the FlowRecord, plus `marks`
 * when hooks treated it, plus the `--flow-detail` fields (headers, bodies, timings...) when given.
 */
export function formatFlowJson(flow: FlowRecord, detail?: FlowDetail): string {
  const { marks = [], ...rest } = detail ?? {};
  return jsonLine({ ...flow, ...(marks.length > 0 ? { marks } : {}), ...rest });
}

// JSON.stringify escapes C0 controls but not DEL and C1 (U+0080–U+009F), which some terminals
// still act on; \u escapes keep the line valid JSON and inert on screen.
function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f]/g, (char) => `\\u00${char.charCodeAt(0).toString(16)}`);
}

/** `host:port`, with brackets around IPv6 literals. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Escapes control characters. URLs, hosts and messages come from clients and origins, and a raw
 * ESC or C1 byte in a log line could move the cursor or retitle the terminal of whoever reads it.
 */
export function printable(text: string): string {
  const hex = (char: string): string => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching C0 and C1 control characters is the point: they are escaped.
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, hex);
}

/** How `mitm start` reports what it sees (the CLI-only options of CliOptionsSchema). */
export interface LogOptions {
  readonly quiet: boolean;
  readonly logFormat: 'pretty' | 'json';
  /** 0 nothing per flow, 1 one line (the default), 2 + headers, 3 + bodies, 4 + connection, timings, messages. */
  readonly flowDetail?: number;
  /** Bytes of each body shown at detail 3 and up (default 2 KiB). */
  readonly detailBodyLimit?: number;
  /** Only flows this filter (docs/filters.md) matches are printed; recording is unaffected. */
  readonly logFilter?: string | undefined;
  /** Colours for the pretty format; plain when left out. */
  readonly style?: TermStyle;
}

/**
 * Prints a running proxy's events. Flows go to stdout; in json mode stdout carries flow objects
 * (and, at `--flow-detail 4`, message objects marked `"event": "message"`), so tunnels move to
 * stderr there. `quiet` drops successful flows, tunnels and messages but keeps failed flows and
 * client issues: those are the errors it promises. At level 4 WebSocket messages and server-sent
 * events are printed as they pass, before their flow's line.
 */
export function attachLog(proxy: EventEmitter<ProxyEventMap>, io: Io, options: LogOptions): void {
  const json = options.logFormat === 'json';
  const level = options.flowDetail ?? 1;
  const bodyLimit = options.detailBodyLimit ?? 2048;
  const style = json ? PLAIN : (options.style ?? PLAIN);
  const matches = options.logFilter === undefined || options.logFilter.trim() === '' ? undefined : compileFilter(options.logFilter);
  const stackShown = new Set<string>();
  proxy.on('flow', (record, flow) => {
    const stack = flow?.error === undefined ? undefined : firstHookStack(flow.error, stackShown);
    if (stack !== undefined) writeLine(io.stderr, stack);
    if (level === 0) return;
    if (options.quiet && record.error === undefined) return;
    if (
      matches &&
      !matches(
        flow
          ? subjectOfFlow(flow, { mode: record.mode, responseSize: record.responseBytes, durationMs: record.durationMs })
          : subjectOfRecord(record),
      )
    )
      return;
    writeFlow(io, record, flow ? flowDetail(flow, level, bodyLimit) : undefined, { json, level, style });
  });
  if (level >= 4 && !options.quiet) {
    proxy.on('message', (message, flow) => {
      if (matches && !matches(subjectOfFlow(flow, { mode: flow.mode }))) return;
      writeLine(io.stdout, json ? formatMessageJson(message, bodyLimit) : formatMessage(message, bodyLimit, style));
    });
  }
  proxy.on('tunnel', (tunnel) => {
    if ((options.quiet || level === 0) && tunnel.error === undefined) return;
    writeLine(json ? io.stderr : io.stdout, formatTunnel(tunnel));
  });
  proxy.on('client-issue', (issue) => writeLine(io.stderr, formatClientIssue(issue)));
  // Printed even with --quiet: interception silently stopping for a host is worth one line.
  proxy.on('auto-passthrough', (record) => writeLine(io.stderr, formatAutoPassthrough(record)));
  // A --hook file's onError/onFlowEnd failures are swallowed by the engine; this is where they show.
  proxy.on('hook-fault', (fault) => writeLine(io.stderr, printable(formatHookFault(fault))));
  // Flows that could not be written are lost from the store, not from the proxy: said once per failed batch.
  proxy.on('store-error', (record) => writeLine(io.stderr, printable(`mitm: ${record.message}`)));
}

/**
 * Writes one flow to stdout as `mitm start` does: its line with marks and, from level 2, the
 * detail lines; or, in json mode, one object with the detail as fields. `mitm tail` prints stored
 * flows through the same function.
 */
export function writeFlow(
  io: Io,
  record: FlowRecord,
  detail: FlowDetail | undefined,
  options: { readonly json: boolean; readonly level: number; readonly style: TermStyle },
): void {
  if (options.json) {
    writeLine(io.stdout, formatFlowJson(record, detail));
    return;
  }
  const { style } = options;
  writeLine(io.stdout, colourLine(record, formatFlow(record), style) + formatMarks(detail?.marks ?? [], style));
  if (detail && options.level >= 2) for (const line of detailLines(detail, style)) writeLine(io.stdout, line);
}

/**
 * The stack of a hook that threw in onRequest/onResponse (its message is on the flow's line), the
 * first time that hook fails in that phase; undefined after that, or for other errors.
 */
export function firstHookStack(error: Error, shown: Set<string>): string | undefined {
  const where = /^hook "(.*)" failed in (\w+):/s.exec(error.message);
  const stack = error.cause instanceof Error ? error.cause.stack : undefined;
  if (where === null || stack === undefined) return undefined;
  const key = `${where[1]} ${where[2]}`;
  if (shown.has(key)) return undefined;
  shown.add(key);
  return `hook "${printable(where[1] ?? '')}" failed in ${where[2]} (shown once per hook and phase):\n${stack.split('\n').map(printable).join('\n')}`;
}

/** ` [mock] [modified by set-header]` after a flow's line; empty without marks. */
export function formatMarks(marks: readonly string[], style: TermStyle = PLAIN): string {
  return marks.map((mark) => ` ${style.yellow(`[${printable(mark)}]`)}`).join('');
}

/** The line in the colour of its outcome: red for errors and 5xx, yellow for 4xx. */
function colourLine(record: FlowRecord, line: string, style: TermStyle): string {
  const status = record.status ?? 0;
  if (record.error !== undefined || status >= 500) return style.red(line);
  if (status >= 400) return style.yellow(line);
  return line;
}

/** One stderr line for a hook or event listener that threw. */
export function formatHookFault(fault: HookFault): string {
  return fault.phase === 'listener'
    ? `a '${fault.hook}' event listener failed: ${fault.message}`
    : `hook "${fault.hook}" failed in ${fault.phase}: ${fault.message}`;
}
