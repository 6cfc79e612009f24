// One flow held at a breakpoint (docs/ui.md#breakpoints): the handle `held` listeners get, the
// checks on what they send back, and how the decision is applied to the flow.
import { MitmError } from '../errors.js';
import type { HeldEdits, HeldFlow, HeldPhase, HeldRelease } from '../events.js';
import type { Flow, ResponseInit } from '../flow/flow.js';
import { headerMapFromRaw, valuesOf, type HeaderMap } from '../flow/header-map.js';

/** What released a held flow. */
export type HoldDecision =
  | { readonly kind: 'resume'; readonly edits: HeldEdits }
  | { readonly kind: 'abort' }
  | { readonly kind: 'answer'; readonly response: ResponseInit }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'client_gone' };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values: visible characters, spaces and tabs (RFC 9110 §5.5); never CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/;

/** A held flow: settles once, by the first of resume / abort / answer / the timeout / close. */
export class Hold implements HeldFlow {
  readonly flow: Flow;
  readonly phase: HeldPhase;
  readonly rule: number;
  readonly heldAt: number;
  readonly deadline: number;
  readonly body: Buffer | undefined;
  /** Resolves with the decision that released the flow. */
  readonly decided: Promise<HoldDecision>;
  #decide: (decision: HoldDecision) => void = () => undefined;
  #settled = false;
  readonly #timer: NodeJS.Timeout;

  constructor(init: { flow: Flow; phase: HeldPhase; rule: number; timeoutMs: number; body: Buffer | undefined }) {
    this.flow = init.flow;
    this.phase = init.phase;
    this.rule = init.rule;
    this.body = init.body;
    this.heldAt = Date.now();
    this.deadline = this.heldAt + init.timeoutMs;
    this.decided = new Promise((resolve) => {
      this.#decide = resolve;
    });
    // Unref'd: a held flow never keeps the process alive on its own; settle() clears it.
    this.#timer = setTimeout(() => this.settle({ kind: 'timeout' }), init.timeoutMs).unref();
  }

  /** True until the flow is released. */
  get pending(): boolean {
    return !this.#settled;
  }

  resume(edits: HeldEdits = {}): void {
    this.#assertHeld();
    checkEdits(edits, this.phase);
    this.settle({ kind: 'resume', edits });
  }

  abort(): void {
    this.#assertHeld();
    this.settle({ kind: 'abort' });
  }

  answer(response: ResponseInit): void {
    this.#assertHeld();
    checkStatus(response.status);
    if (response.headers !== undefined) checkHeaders(response.headers);
    this.settle({ kind: 'answer', response });
  }

  /** Releases the flow with `decision` unless it was released already; false then. */
  settle(decision: HoldDecision): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#decide(decision);
    return true;
  }

  #assertHeld(): void {
    if (this.#settled) throw new MitmError('breakpoint_not_held', `flow ${this.flow.id} is no longer held (${this.phase} phase)`);
  }
}

/**
 * Applies `decision` to the flow, in the hook phase that held it: edits are set, an answer becomes
 * the flow's response, an abort or a timeout is thrown as the error the client gets.
 */
export function applyDecision(flow: Flow, phase: HeldPhase, decision: HoldDecision, timeoutMs: number): HeldRelease['outcome'] {
  const what = `${flow.request.method} ${flow.request.url}`;
  switch (decision.kind) {
    case 'abort':
      throw new MitmError('breakpoint_aborted', `${what} was held at a breakpoint (${phase}) and aborted`);
    case 'timeout':
      throw new MitmError(
        'breakpoint_timeout',
        `${what} was held at a breakpoint (${phase}) and not released within ${timeoutMs} ms (--break-timeout)`,
      );
    case 'client_gone':
      // Nobody is left to answer: the exchange sees its client gone and records the flow as such.
      throw new MitmError('breakpoint_aborted', `${what} was held at a breakpoint (${phase}) and its client went away`);
    case 'answer':
      flow.respond(decision.response);
      return 'answered';
    case 'closed':
      return 'closed';
    case 'resume':
      applyEdits(flow, phase, decision.edits);
      return 'resumed';
  }
}

function applyEdits(flow: Flow, phase: HeldPhase, edits: HeldEdits): void {
  const message = phase === 'request' ? flow.request : flow.response;
  if (!message) return;
  // Headers first: a new URL's host then sets Host over whatever the edited list said.
  if (edits.headers !== undefined) message.headers = lowerCased(edits.headers);
  if (phase === 'request') {
    if (edits.method !== undefined) flow.request.method = edits.method;
    if (edits.url !== undefined && edits.url !== flow.request.url) flow.request.url = edits.url;
  } else if (flow.response && edits.status !== undefined) {
    flow.response.status = edits.status;
    flow.response.statusMessage = undefined;
  }
  if (edits.body !== undefined) message.body = edits.body;
}

/** The same fields with lower-case names (HeaderMap's rule), repeated spellings merged. */
function lowerCased(headers: HeaderMap): HeaderMap {
  return headerMapFromRaw(Object.entries(headers).flatMap(([name, value]) => valuesOf(value).flatMap((item) => [name, item])));
}

function checkEdits(edits: HeldEdits, phase: HeldPhase): void {
  if (phase === 'response' && (edits.method !== undefined || edits.url !== undefined)) {
    invalid('method and url can be changed only while the request is held');
  }
  if (phase === 'request' && edits.status !== undefined) invalid('status can be changed only while the response is held');
  if (edits.method !== undefined && !TOKEN.test(edits.method)) invalid(`method ${JSON.stringify(edits.method)} is not an HTTP token`);
  if (edits.url !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(edits.url);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:') invalid(`url ${JSON.stringify(edits.url)} is not an absolute http(s) URL`);
  }
  if (edits.status !== undefined) checkStatus(edits.status);
  if (edits.headers !== undefined) checkHeaders(edits.headers);
}

function checkStatus(status: number): void {
  if (!Number.isInteger(status) || status < 100 || status > 999) invalid(`status ${JSON.stringify(status)} is not 100–999`);
}

function checkHeaders(headers: HeaderMap): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) invalid(`header name ${JSON.stringify(name)} is not an HTTP token`);
    for (const item of valuesOf(value)) {
      if (typeof item !== 'string' || !FIELD_VALUE.test(item)) invalid(`header ${name} has a value with a line break or control character`);
    }
  }
}

function invalid(reason: string): never {
  throw new MitmError('breakpoint_edit_invalid', reason);
}
