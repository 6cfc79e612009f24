// A web inspector page without a browser: connects to the inspector's push channel
// (`/api/v1/push`, docs/ui-api.md) with its token, subscribes to every flow (an empty filter, as
// the page does when opened) and reads each batch the proxy pushes. Started by
// bench/peers/mitm-ui.ts as
//   node …/ui-live.js --origin http://127.0.0.1:PORT --token TOKEN
// and prints {"ready":true} once its first snapshot arrived; on SIGTERM it prints
// {"flows":N,"messages":M}, what it received, and exits.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({ options: { origin: { type: 'string' }, token: { type: 'string' } } });
const origin = values.origin ?? '';
const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/api/v1/push`, {
  origin,
  headers: { authorization: `Bearer ${values.token ?? ''}` },
});
let flows = 0;
let messages = 0;
let ready = false;
ws.on('error', (error) => {
  console.log(JSON.stringify({ error: error.message }));
  process.exit(1);
});
ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', filter: '' })));
ws.on('message', (data) => {
  messages += 1;
  // Parsed as the page parses it: the cost of a live page includes reading what it is sent.
  const message = JSON.parse(String(data)) as { type: string; flows?: unknown[] };
  if (message.type === 'reset' && !ready) {
    ready = true;
    console.log(JSON.stringify({ ready: true }));
  }
  if (message.type === 'flows') flows += message.flows?.length ?? 0;
});
process.once('SIGTERM', () => {
  console.log(JSON.stringify({ flows, messages }));
  process.exit(0);
});
