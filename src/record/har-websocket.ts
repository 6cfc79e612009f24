import type { WebSocketLog } from '../flow/ws-message.js';
import type { HarEntry, HarWebSocketMessage } from './har-types.js';

/**
 * Adds a WebSocket flow's messages to its entry (the 101) as Chrome DevTools writes and imports
 * them: `_resourceType: 'websocket'`, a ws(s):// URL and `_webSocketMessages`, with `time` in
 * epoch seconds, `opcode` 1 (text) or 2 (binary, `data` in base64).
 */
export function addWebSocketMessages(entry: HarEntry, log: WebSocketLog): void {
  entry._resourceType = 'websocket';
  entry.request.url = entry.request.url.replace(/^http(s?):/i, 'ws$1:');
  entry._webSocketMessages = log.messages.map((message) => {
    const out: HarWebSocketMessage = {
      type: message.direction === 'client-to-server' ? 'send' : 'receive',
      time: message.time / 1000,
      opcode: message.type === 'text' ? 1 : 2,
      data: message.type === 'text' ? message.data.toString('utf8') : message.data.toString('base64'),
    };
    // Only the start of the message was kept (--record-body-limit).
    if (message.truncated) out._truncated = true;
    return out;
  });
}
