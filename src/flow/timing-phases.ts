// A flow's milestones (FlowTimings) as consecutive phases, the way the HAR's `timings`, the
// inspector's waterfall and the terminal's detail show them: one computation for all three.
import type { FlowTimings } from './flow.js';

/**
 * Consecutive phases in milliseconds, adding up to the flow's whole time; -1 where a phase did not
 * happen. Only the part of opening a connection that the request waited for counts: a connection
 * opened ahead (during the CONNECT) costs the request 0 ms, a reused one -1.
 */
export interface TimingPhases {
  /** From the request head's arrival until it was handed to the origin side: the hooks and the proxy's own work. */
  readonly send: number;
  /** Waiting for a new connection to start being opened (an ALPN probe under way, a full pool). */
  readonly blocked: number;
  /** Opening the new connection: TCP and TLS together (as in HAR, `ssl` is part of it). */
  readonly connect: number;
  /** The TLS handshake of the new connection. */
  readonly ssl: number;
  /** From the request being on its connection until the response head arrived. */
  readonly wait: number;
  /** From the response head until the last byte went to the client. */
  readonly receive: number;
}

/** The phases of `t`, each clamped so that they add up to the total. */
export function timingPhases(t: FlowTimings): TimingPhases {
  const start = t.start;
  const end = Math.max(start, t.end ?? t.responseStart ?? t.requestSent ?? start);
  const within = (value: number, low: number, high = end): number => Math.min(high, Math.max(low, value));
  // A hook's answer has no requestSent: the time until it is all "send" (the proxy's own work).
  const sent = within(t.requestSent ?? t.responseStart ?? end, start);
  const head = within(t.responseStart ?? end, sent);
  const receive = end - head;
  if (t.connection !== 'new') return { send: sent - start, blocked: -1, connect: -1, ssl: -1, wait: head - sent, receive };
  const dialled = within(t.connectStart ?? sent, sent, head);
  const tcp = within(t.connectEnd ?? dialled, dialled, head);
  const opened = within(t.tlsEnd ?? tcp, tcp, head);
  const secured = within(t.tlsStart ?? tcp, tcp, opened);
  return {
    send: sent - start,
    blocked: dialled - sent,
    connect: opened - dialled,
    ssl: t.tlsEnd === undefined ? -1 : opened - secured,
    wait: head - opened,
    receive,
  };
}
