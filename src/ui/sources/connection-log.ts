import type { AutoPassthroughRecord, ClientIssue, TunnelRecord } from '../../events.js';
import type { ConnectionEvent } from '../api-types.js';

/** The last `keep` tunnels, auto-passthroughs and refused handshakes, as connection events. */
export class ConnectionLog {
  readonly #keep: number;
  #events: ConnectionEvent[] = [];
  #seq = 0;

  constructor(keep: number) {
    this.#keep = keep;
  }

  /** Events kept, oldest first. */
  get events(): readonly ConnectionEvent[] {
    return this.#events;
  }

  /** Records a tunnel. */
  tunnel(record: TunnelRecord): ConnectionEvent {
    return this.#add({
      kind: 'tunnel',
      host: record.host,
      port: record.port,
      client: pick(record.client),
      reason: record.error ? `${record.reason}; ${record.error.message}` : record.reason,
      code: record.error?.code,
    });
  }

  /** Records a client→host pair that `--auto-passthrough` now tunnels. */
  autoPassthrough(record: AutoPassthroughRecord): ConnectionEvent {
    return this.#add({
      kind: 'auto-passthrough',
      host: record.host,
      port: record.port,
      client: pick(record.client),
      reason: `client refused our certificate (${record.reason}); tunnelled until ${new Date(record.until).toISOString()}`,
    });
  }

  /** Records a connection that failed before any request (TLS refused, garbage bytes). */
  clientIssue(issue: ClientIssue): ConnectionEvent {
    return this.#add({ kind: 'client-issue', host: issue.host, client: pick(issue.client), reason: issue.message, code: issue.code });
  }

  /** Forgets every event. */
  clear(): void {
    this.#events = [];
  }

  #add(event: Omit<ConnectionEvent, 'seq' | 'time'>): ConnectionEvent {
    const full: ConnectionEvent = { seq: ++this.#seq, time: Date.now(), ...event };
    this.#events.push(full);
    if (this.#events.length > this.#keep * 1.25) this.#events = this.#events.slice(-this.#keep);
    return full;
  }
}

function pick(client: { readonly address: string; readonly port: number }): { address: string; port: number } {
  return { address: client.address, port: client.port };
}
