// The hook phases of one exchange, in the order docs/hooks.md draws them: onRequest, then the
// origin (unless a hook answered), then onResponse, and onError when any of it failed. Plain
// requests (exchange.ts) and WebSocket handshakes (websocket/websocket.ts) differ only in how they
// reach the origin and how they answer, which they pass in as steps.
import { isMitmError, MitmError } from '../errors.js';
import { syntheticResponse, type Flow, type FlowResponse, type ResponseInit } from '../flow/flow.js';
import type { HookPipeline } from '../hooks/pipeline.js';

/** What the origin step resolves with: the origin's response head, and whatever else the caller keeps of it. */
export interface OriginReply {
  readonly response: FlowResponse;
}

/** The parts of the phase sequence that depend on the kind of exchange. */
export interface PhaseSteps<T extends OriginReply> {
  /** Sends the request to the origin; runs only when no onRequest hook answered. */
  readonly toOrigin: () => Promise<T>;
  /** An onRequest hook answered (`flow.respond()`): the origin is not contacted. */
  readonly answered?: () => void;
  /** Frees what the origin step holds once the exchange failed (besides its body, which is discarded). */
  readonly abandon?: (reply: T) => void;
  /** True when the client can no longer be answered: the failure is then neither recorded nor sent. */
  readonly clientGone?: () => boolean;
  /** Answers the client with the failure, after the onError hooks ran; returns the answer sent (undefined: none, a reset). */
  readonly fail: (failure: MitmError) => ResponseInit | undefined;
}

/** The outcome of the phases: the response to send and the origin's reply, if the origin was asked. */
export interface PhaseResult<T extends OriginReply> {
  readonly response: FlowResponse;
  readonly reply: T | undefined;
}

/**
 * Runs onRequest, the origin (unless a hook answered), then onResponse. Any failure is set as
 * `flow.error`, shown to the onError hooks and answered through `steps.fail`; the result is then
 * undefined. Phases no hook implements are skipped, awaits included: most proxies run without hooks.
 */
export async function runPhases<T extends OriginReply>(
  hooks: HookPipeline,
  flow: Flow,
  steps: PhaseSteps<T>,
): Promise<PhaseResult<T> | undefined> {
  let reply: T | undefined;
  let response: FlowResponse | undefined;
  try {
    if (hooks.has('onRequest')) await hooks.request(flow);
    // A hook's flow.reset() is answered as a failure: steps.fail resets the client (error-response.ts).
    if (flow.resetRequested) throw flow.resetRequested;
    if (flow.response) steps.answered?.();
    else {
      flow.timings.requestSent = Date.now();
      reply = await steps.toOrigin();
      flow.response = reply.response;
    }
    flow.timings.responseStart = Date.now();
    if (hooks.has('onResponse')) await hooks.response(flow);
    if (flow.resetRequested) throw flow.resetRequested;
    response = flow.response;
    if (!response)
      throw new MitmError('hook_failed', 'an onResponse hook set flow.response to undefined; use flow.respond() to replace it');
  } catch (error) {
    const failure = isMitmError(error) ? error : new MitmError('hook_failed', String(error), { cause: error });
    // An origin response a hook failed on is never sent: stop reading it and free its connection.
    if (reply) {
      steps.abandon?.(reply);
      reply.response.bodyStore.discard();
    }
    if (steps.clientGone?.()) return undefined;
    flow.error = failure;
    await hooks.error(flow, failure);
    recordAnswer(flow, steps.fail(failure));
    return undefined;
  }
  // A hook that answered instead (flow.respond() in onResponse) leaves the origin's body unread; left
  // alone it would hold its pooled connection forever, and --max-origin-connections such flows would
  // stall every later request to that origin.
  if (reply && response !== reply.response) reply.response.bodyStore.discard();
  return { response, reply };
}

/**
 * Makes the proxy's error answer the flow's response: what the client got instead of the origin's
 * (or a hook's) answer, which the record (HAR, the store, `mitm flows`) then shows with its status,
 * x-mitm-error and body, beside `flow.error`. No answer (a reset): no response.
 */
function recordAnswer(flow: Flow, sent: ResponseInit | undefined): void {
  if (!sent) {
    flow.response = undefined;
    return;
  }
  const { method, url, bodyStore } = flow.request;
  const response = syntheticResponse(sent, `the error answer to ${method} ${url}`, bodyStore.recordLimit);
  response.bodyStore.recordSent(response.bodyStore.outgoing());
  flow.response = response;
}
