import { isMitmError, MitmError } from '../errors.js';
import type { HookFault } from '../events.js';
import type { Flow } from '../flow/flow.js';
import type { ServerSentEvent } from '../flow/sse.js';
import type { WebSocketMessage } from '../flow/ws-message.js';
import type { ConnectContext, ConnectVerdict, Hook } from './types.js';

/**
 * Runs hooks in registration order, awaiting each. A throw in `onConnect`, `onRequest` or
 * `onResponse` becomes a `hook_failed` error naming the hook (the client gets a 500); a throw in
 * `onError` or `onFlowEnd` is handed to `onFault` and the remaining hooks still run.
 */
export class HookPipeline {
  #hooks: Hook[] = [];
  readonly #sources = new Map<Hook, string>();
  readonly #onFault: (fault: HookFault) => void;

  constructor(onFault: (fault: HookFault) => void) {
    this.#onFault = onFault;
  }

  /** Appends a hook; it sees every flow that starts after this call. `source` says where it came from (a --hook file, a flag). */
  use(hook: Hook, source?: string): void {
    if (typeof hook !== 'object' || hook === null || typeof hook.name !== 'string' || hook.name === '') {
      throw new MitmError('config_invalid', 'a hook must be an object with a non-empty string "name"');
    }
    this.#hooks.push(hook);
    if (source !== undefined) this.#sources.set(hook, source);
  }

  /**
   * Puts a hook in front of all others, for flows that start after this call. The list is
   * replaced, not changed in place, so flows running their phases now keep the list they began with.
   */
  prepend(hook: Hook, source?: string): void {
    this.#hooks = [hook, ...this.#hooks];
    if (source !== undefined) this.#sources.set(hook, source);
  }

  /** The installed hooks in order: name, and where each came from when known. */
  list(): Array<{ readonly name: string; readonly source: string | undefined }> {
    return this.#hooks.map((hook) => ({ name: hook.name, source: this.#sources.get(hook) }));
  }

  /** The first verdict any onConnect hook returns, with that hook's name; undefined when none decides. */
  async connect(context: ConnectContext): Promise<{ verdict: ConnectVerdict; hook: string } | undefined> {
    for (const hook of this.#hooks) {
      if (!hook.onConnect) continue;
      const verdict = await guard(hook, 'onConnect', () => hook.onConnect?.(context));
      if (verdict === 'intercept' || verdict === 'tunnel' || verdict === 'reject') return { verdict, hook: hook.name };
      if (verdict !== undefined) {
        throw new MitmError(
          'hook_failed',
          `hook "${hook.name}" returned ${JSON.stringify(verdict)} from onConnect; expected intercept, tunnel, reject or undefined`,
        );
      }
    }
    return undefined;
  }

  /** Runs onRequest hooks until one answers the flow (sets `flow.response`) or resets it (`flow.reset()`). */
  async request(flow: Flow): Promise<void> {
    for (const hook of this.#hooks) {
      if (flow.response || flow.resetRequested) return;
      if (!hook.onRequest) continue;
      const before = requestState(flow);
      await guard(hook, 'onRequest', () => hook.onRequest?.(flow));
      if (flow.response || flow.resetRequested || requestState(flow) !== before) flow.changedBy.add(hook.name);
    }
  }

  /** Runs every onResponse hook, until one resets the flow (`flow.reset()`). */
  async response(flow: Flow): Promise<void> {
    for (const hook of this.#hooks) {
      if (flow.resetRequested) return;
      if (!hook.onResponse) continue;
      const before = responseState(flow);
      await guard(hook, 'onResponse', () => hook.onResponse?.(flow));
      if (flow.resetRequested || responseState(flow) !== before) flow.changedBy.add(hook.name);
    }
  }

  /** Runs one server-sent event through every onServerSentEvent hook; returns the events to send (none when dropped). */
  async serverSentEvent(flow: Flow, event: ServerSentEvent): Promise<ServerSentEvent[]> {
    let events = [event];
    for (const hook of this.#hooks) {
      if (!hook.onServerSentEvent) continue;
      const next: ServerSentEvent[] = [];
      for (const current of events) {
        const verdict = await guard(hook, 'onServerSentEvent', () => hook.onServerSentEvent?.(flow, current));
        if (verdict === null) continue;
        if (verdict === undefined) next.push(current);
        else next.push(...(Array.isArray(verdict) ? verdict : [verdict]));
      }
      events = next;
    }
    return events;
  }

  /** Runs one WebSocket message through every onWebSocketMessage hook; false when one dropped it (later hooks then skip it). */
  async webSocketMessage(flow: Flow, message: WebSocketMessage): Promise<boolean> {
    for (const hook of this.#hooks) {
      if (!hook.onWebSocketMessage) continue;
      const verdict = await guard(hook, 'onWebSocketMessage', () => hook.onWebSocketMessage?.(flow, message));
      if (verdict === null) return false;
    }
    return true;
  }

  /** Tells every onError hook; their own failures are reported, not raised. */
  async error(flow: Flow, error: MitmError): Promise<void> {
    for (const hook of this.#hooks) {
      if (hook.onError) await this.#observe(hook, 'onError', () => hook.onError?.(flow, error));
    }
  }

  /** Tells every onFlowEnd hook; their own failures are reported, not raised. */
  async flowEnd(flow: Flow): Promise<void> {
    for (const hook of this.#hooks) {
      if (hook.onFlowEnd) await this.#observe(hook, 'onFlowEnd', () => hook.onFlowEnd?.(flow));
    }
  }

  /** True when some hook implements `phase`: lets the engine skip work nobody asked for. */
  has(phase: Exclude<keyof Hook, 'name'>): boolean {
    return this.#hooks.some((hook) => hook[phase] !== undefined);
  }

  async #observe(hook: Hook, phase: HookFault['phase'], run: () => unknown): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.#onFault({ hook: hook.name, phase, message: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** What a hook may change of the request, as one comparable string (cheap next to a hook's await). */
function requestState(flow: Flow): string {
  const { request } = flow;
  return `${request.method} ${request.url} ${request.bodyStore.revision}\n${request.wireHeaders().join('\n')}`;
}

/** What a hook may change of the response; a new response object counts as a change. */
function responseState(flow: Flow): string {
  const { response } = flow;
  if (!response) return '';
  return `${responseIds.get(response) ?? idOf(response)} ${response.status} ${response.bodyStore.revision}\n${response.wireHeaders().join('\n')}`;
}

const responseIds = new WeakMap<object, number>();
let nextResponseId = 0;
function idOf(response: object): number {
  const id = ++nextResponseId;
  responseIds.set(response, id);
  return id;
}

async function guard<T>(hook: Hook, phase: string, run: () => T): Promise<Awaited<T>> {
  try {
    return await run();
  } catch (error) {
    // A breakpoint's abort or timeout is the user's decision, not a failing hook: its message stands as it is.
    if (isMitmError(error) && (error.code === 'breakpoint_aborted' || error.code === 'breakpoint_timeout')) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // A coded error the hook let through (body_too_large, body_undecodable) keeps its code, so the
    // client's x-mitm-error says what went wrong, as docs/errors.md promises; the message names the hook.
    const code = isMitmError(error) ? error.code : 'hook_failed';
    throw new MitmError(code, `hook "${hook.name}" failed in ${phase}: ${message}`, { cause: error });
  }
}
