import { UI_API_VERSION, type ClientMessage, type PushMessage } from '../api-types.js';

/** The page's end of the push channel: reconnects with back-off, re-sends the filter on each connect. */
export class PushClient {
  readonly #onMessage: (message: PushMessage) => void;
  readonly #onState: (connected: boolean) => void;
  #ws: WebSocket | undefined;
  #filter = '';
  #delay = 250;
  #closed = false;

  constructor(onMessage: (message: PushMessage) => void, onState: (connected: boolean) => void) {
    this.#onMessage = onMessage;
    this.#onState = onState;
  }

  /** Opens the channel; `filter` is subscribed to as soon as it is open. */
  start(filter: string): void {
    this.#filter = filter;
    this.#connect();
  }

  /** Asks for the flows matching `filter`: a `reset` (or `filter-error`) answers. */
  subscribe(filter: string): void {
    this.#filter = filter;
    this.#send({ type: 'subscribe', filter });
  }

  /** Closes for good. */
  close(): void {
    this.#closed = true;
    this.#ws?.close();
  }

  #connect(): void {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v${UI_API_VERSION}/push`);
    this.#ws = ws;
    ws.onopen = () => {
      this.#delay = 250;
      this.#onState(true);
      this.#send({ type: 'subscribe', filter: this.#filter });
    };
    ws.onmessage = (event: MessageEvent<string>) => {
      this.#onMessage(JSON.parse(event.data) as PushMessage);
    };
    ws.onclose = () => {
      this.#onState(false);
      if (this.#closed) return;
      setTimeout(() => this.#connect(), this.#delay);
      this.#delay = Math.min(this.#delay * 2, 5000);
    };
  }

  #send(message: ClientMessage): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }
}
