import { timingDetail } from './tls-detail.js';
import { headerValues } from '../../record/store/reader.js';
import type { StoredBody, StoredFlow } from '../../record/store/types.js';
import { type BodyView, cut, type FlowDetail, type MessageView, marksOf, prettyJson } from './flow-detail.js';

/**
 * What `--flow-detail` adds to a stored flow's line (`mitm tail`): the same FlowDetail the proxy
 * prints for a live flow at `level`, bodies cut at `bodyLimit` bytes. The store keeps tags, not
 * which hooks changed a flow, so its marks lack `modified by NAME`.
 */
export function storedFlowDetail(flow: StoredFlow, level: number, bodyLimit: number): FlowDetail {
  const detail: { -readonly [K in keyof FlowDetail]: FlowDetail[K] } = { marks: marksOf(new Set(flow.tags), []) };
  const answered = flow.status !== undefined || flow.responseHeaders.length > 0;
  if (level >= 2) {
    detail.requestHeaders = flow.requestHeaders;
    if (answered) detail.responseHeaders = flow.responseHeaders;
  }
  if (level >= 3) {
    const requestBody = bodyView(flow.requestBody, headerValues(flow.requestHeaders, 'content-type')[0], bodyLimit);
    if (requestBody) detail.requestBody = requestBody;
    const responseBody = bodyView(flow.responseBody, flow.contentType, bodyLimit);
    if (responseBody) detail.responseBody = responseBody;
  }
  if (level >= 4) {
    detail.connection = {
      client: `${flow.client.address}:${flow.client.port}`,
      server: flow.server ? `${flow.server.address}:${flow.server.port}` : undefined,
      requestHttpVersion: flow.requestHttpVersion,
      responseHttpVersion: flow.responseHttpVersion,
      tls: flow.url.startsWith('https:') || flow.url.startsWith('wss:'),
    };
    if (flow.tls) detail.tls = flow.tls;
    detail.timings = timingDetail(flow.timings);
    if (flow.isWebSocket) {
      detail.messages = flow.webSocketMessages.map(
        (message): MessageView => ({
          direction: message.direction,
          type: message.type,
          size: message.size,
          ...(message.type === 'text' ? { text: cut(message.data.toString('utf8'), bodyLimit).text } : {}),
        }),
      );
      detail.messagesOmitted = flow.webSocketOmitted;
    }
  }
  return detail;
}

/** A stored body for the log: its decoded text (cut), else its size and type as binary. */
function bodyView(body: StoredBody | undefined, type: string | undefined, limit: number): BodyView | undefined {
  if (body === undefined) return undefined;
  if (body.raw.length === 0) {
    const whole = body.fullLength ?? 0;
    return whole > 0 ? { size: whole, type, truncated: false, binary: false, note: 'not recorded' } : undefined;
  }
  if (body.text === undefined) return { size: body.raw.length, type, truncated: body.cut, binary: true };
  const shown = cut(prettyJson(body.text, type, body.cut), limit);
  return { size: Buffer.byteLength(body.text), type, text: shown.text, truncated: shown.truncated || body.cut, binary: false };
}
