// Breakpoints (docs/ui.md#breakpoints): rules that hold matching flows before their request goes
// upstream or before their response goes to the client, until someone resumes, aborts or answers
// them, or the timeout fails them. A hook like any other; its phases exist only while a rule
// wants them, so a proxy without rules pays nothing (and CONNECTs still dial first).
import { isMitmError, MitmError } from '../errors.js';
import type { HeldFlow, HeldPhase, HeldRelease } from '../events.js';
import type { Flow, FlowRequest, FlowResponse } from '../flow/flow.js';
import { valuesOf } from '../flow/header-map.js';
import { applyDecision, Hold, type HoldDecision } from './held-flow.js';
import type { Hook } from './types.js';

/** Which side of a flow a rule holds. */
export type BreakpointSide = 'request' | 'response' | 'both';

/** A breakpoint rule as `list()` shows it. */
export interface BreakpointRule {
  readonly id: number;
  /** Filter text (docs/filters.md); '' matches every flow. */
  readonly filter: string;
  readonly on: BreakpointSide;
}

/** What `add()` takes: the filter, and the side (default `request`). */
export interface BreakpointInit {
  readonly filter: string;
  readonly on?: BreakpointSide | undefined;
}

/** The breakpoint rules of a proxy (`proxy.breakpoints`). */
export interface BreakpointControl {
  /** Adds a rule; returns its id. Throws `filter_invalid` for a filter that does not parse, `config_invalid` for a bad `on`. */
  add(rule: BreakpointInit): number;
  /** Removes a rule; false when there is none with that id. Flows it holds stay held. */
  remove(id: number): boolean;
  /** The rules, in the order they are tried. */
  list(): BreakpointRule[];
  /** Removes every rule. */
  clear(): void;
  /** The flows held now, oldest first. */
  held(): HeldFlow[];
}

/** What the breakpoints need from the running proxy. */
export interface BreakpointsOptions {
  /** How long a flow may stay held before it fails with 504 `breakpoint_timeout`. */
  readonly timeoutMs: number;
  /** Compiles filter text into a test on a live flow; throws for text that does not parse. */
  readonly compile: (filter: string) => (flow: Flow) => boolean;
  /** Installs the hook, on the first rule added. */
  readonly install: (hook: Hook) => void;
  readonly onHeld: (held: HeldFlow) => void;
  readonly onReleased: (release: HeldRelease) => void;
}

interface CompiledRule extends BreakpointRule {
  readonly matches: (flow: Flow) => boolean;
}

const SIDES: readonly BreakpointSide[] = ['request', 'response', 'both'];

// What a decision is called once applied; applyDecision says the same unless it throws.
const RELEASED_AS: Record<HoldDecision['kind'], HeldRelease['outcome']> = {
  resume: 'resumed',
  abort: 'aborted',
  answer: 'answered',
  timeout: 'timeout',
  closed: 'closed',
  client_gone: 'client_gone',
};

/** Breakpoint rules, the flows they hold, and the hook that holds them. */
export class Breakpoints implements BreakpointControl {
  readonly #options: BreakpointsOptions;
  readonly #rules: CompiledRule[] = [];
  readonly #holds = new Set<Hold>();
  #nextId = 1;
  #installed = false;
  #closed = false;

  constructor(options: BreakpointsOptions) {
    this.#options = options;
  }

  add(rule: BreakpointInit): number {
    const on = rule.on ?? 'request';
    if (!SIDES.includes(on))
      throw new MitmError('config_invalid', `breakpoint on ${JSON.stringify(on)}: expected request, response or both`);
    if (typeof rule.filter !== 'string') throw new MitmError('config_invalid', 'a breakpoint needs a filter (text; "" matches every flow)');
    const matches = this.#options.compile(rule.filter);
    const id = this.#nextId++;
    this.#rules.push({ id, filter: rule.filter, on, matches });
    if (!this.#installed) {
      this.#installed = true;
      this.#options.install(this.#hook());
    }
    return id;
  }

  remove(id: number): boolean {
    const at = this.#rules.findIndex((rule) => rule.id === id);
    if (at < 0) return false;
    this.#rules.splice(at, 1);
    return true;
  }

  list(): BreakpointRule[] {
    return this.#rules.map(({ id, filter, on }) => ({ id, filter, on }));
  }

  clear(): void {
    this.#rules.length = 0;
  }

  held(): HeldFlow[] {
    return [...this.#holds];
  }

  /** Removes every rule and lets every held flow go on unchanged (the proxy is closing). */
  close(): void {
    this.#closed = true;
    this.clear();
    for (const hold of this.#holds) hold.settle({ kind: 'closed' });
  }

  #hook(): Hook {
    // Getters: a phase exists only while some rule wants it, so the pipeline skips it otherwise.
    const wants = (phase: HeldPhase): boolean => this.#rules.some((rule) => rule.on === phase || rule.on === 'both');
    const hold = (phase: HeldPhase) => (flow: Flow) => this.#hold(flow, phase);
    const hook = {
      name: 'breakpoints',
      get onRequest() {
        return wants('request') ? hold('request') : undefined;
      },
      get onResponse() {
        return wants('response') ? hold('response') : undefined;
      },
    };
    // The pipeline reads a phase as absent when it is undefined, which is what a getter returns
    // without rules for it; the Hook type only spells "absent" as a missing property.
    return hook as Hook;
  }

  async #hold(flow: Flow, phase: HeldPhase): Promise<void> {
    const message = phase === 'request' ? flow.request : flow.response;
    if (!message || this.#closed) return;
    const rule = this.#rules.find((candidate) => (candidate.on === phase || candidate.on === 'both') && safely(candidate.matches, flow));
    if (!rule) return;
    const { timeoutMs } = this.#options;
    const hold = new Hold({ flow, phase, rule: rule.id, timeoutMs, body: await bufferedBody(message, flow) });
    this.#holds.add(hold);
    const signal = flow.signal;
    const clientGone = (): void => {
      hold.settle({ kind: 'client_gone' });
    };
    signal.addEventListener('abort', clientGone, { once: true });
    if (signal.aborted) clientGone();
    else this.#options.onHeld(hold);
    const decision = await hold.decided;
    signal.removeEventListener('abort', clientGone);
    this.#holds.delete(hold);
    let outcome: HeldRelease['outcome'] = RELEASED_AS[decision.kind];
    try {
      outcome = applyDecision(flow, phase, decision, timeoutMs);
    } finally {
      this.#options.onReleased({ flowId: flow.id, phase, outcome });
    }
  }
}

/**
 * The held message's body, decoded, when it can be buffered: up to the hook buffer cap
 * (--max-body-buffer), and not for streams that do not end (event streams, upgrades).
 */
async function bufferedBody(message: FlowRequest | FlowResponse, flow: Flow): Promise<Buffer | undefined> {
  if (message === flow.response && (flow.response.status === 101 || isEventStream(flow.response))) return undefined;
  try {
    return await message.bytes();
  } catch (error) {
    if (isMitmError(error) && (error.code === 'body_too_large' || error.code === 'body_undecodable')) return undefined;
    throw error;
  }
}

function isEventStream(response: FlowResponse): boolean {
  return valuesOf(response.headers['content-type']).join().toLowerCase().startsWith('text/event-stream');
}

/** A rule's test; a filter that throws on this flow (a body it cannot read) does not match. */
function safely(matches: (flow: Flow) => boolean, flow: Flow): boolean {
  try {
    return matches(flow);
  } catch {
    return false;
  }
}
