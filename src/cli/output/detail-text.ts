import type { BodyView, FlowDetail } from './flow-detail.js';
import { formatBytes, printable } from './flow-log.js';
import type { TermStyle } from './term-style.js';
import { timingLines, tlsLines } from './tls-detail.js';

const INDENT = '    ';

/** The lines `--flow-detail` 2–4 prints under a flow's line (not the WebSocket messages, shown live), indented, control characters escaped. */
export function detailLines(detail: FlowDetail, style: TermStyle): string[] {
  const lines: string[] = [];
  if (detail.requestHeaders) {
    for (const [name, value] of detail.requestHeaders) lines.push(`${style.cyan('>')} ${style.bold(printable(name))}: ${printable(value)}`);
  }
  if (detail.requestBody) lines.push(...bodyLines(detail.requestBody, '>', style));
  if (detail.responseHeaders) {
    for (const [name, value] of detail.responseHeaders)
      lines.push(`${style.magenta('<')} ${style.bold(printable(name))}: ${printable(value)}`);
  }
  if (detail.responseBody) lines.push(...bodyLines(detail.responseBody, '<', style));
  if (detail.connection) {
    const { client, server, requestHttpVersion, responseHttpVersion, tls } = detail.connection;
    const origin =
      server === undefined ? 'no origin connection' : `origin ${server}${responseHttpVersion ? ` HTTP/${responseHttpVersion}` : ''}`;
    lines.push(style.dim(`client ${client} HTTP/${requestHttpVersion}${tls ? ' over TLS' : ''} → ${origin}`));
  }
  lines.push(...tlsLines(detail.tls, style));
  if (detail.timings) lines.push(...timingLines(detail.timings, style));
  // The messages themselves were printed as they passed (formatMessage); the json format keeps them as a field.
  if ((detail.messagesOmitted ?? 0) > 0) lines.push(style.dim(`… ${detail.messagesOmitted} more messages not recorded`));
  return lines.map((line) => `${INDENT}${line}`);
}

function bodyLines(body: BodyView, arrow: string, style: TermStyle): string[] {
  const type = body.type === undefined ? '' : `${printable(body.type.split(';')[0]?.trim() ?? '')}, `;
  if (body.note !== undefined) return [style.dim(`${arrow} (body ${type}${formatBytes(body.size)}: ${body.note})`)];
  if (body.binary || body.text === undefined) return [style.dim(`${arrow} (binary body, ${type}${formatBytes(body.size)})`)];
  const lines = body.text.split('\n').map((line) => `${arrow} ${printable(line)}`);
  if (body.truncated) lines.push(style.dim(`${arrow} … (${formatBytes(body.size)} in all)`));
  return lines;
}
