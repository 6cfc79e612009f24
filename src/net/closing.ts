// The signal a proxy (or one of its pools) aborts when it closes, which every dial and handshake
// under way listens on: hundreds at once under load, so it has no listener limit (Node's default
// of 10 would print MaxListenersExceededWarning for a proxy that is only busy).
import { setMaxListeners } from 'node:events';

/** An AbortController whose signal any number of concurrent operations may listen on. */
export function closingController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
