// `--flow-detail 4`'s TLS facts and timings: the fields the json format carries, and the lines the
// pretty format prints for them.
import type { FlowTimings } from '../../flow/flow.js';
import { timingPhases } from '../../flow/timing-phases.js';
import type { ClientTlsFacts, FlowTls, OriginTlsFacts } from '../../flow/tls-facts.js';
import { formatDuration, printable } from './flow-log.js';
import type { TermStyle } from './term-style.js';

/** A flow's timings as the detailed log shows them: milestones in ms from the request head's arrival, then phases in ms. */
export interface TimingDetail {
  readonly requestSent?: number | undefined;
  readonly responseStart?: number | undefined;
  readonly end?: number | undefined;
  /** The origin connection was opened for this request (`new`) or open already (`reused`); absent without one. */
  readonly connection?: 'new' | 'reused' | undefined;
  /** A new connection's own TCP connect and TLS handshake, however much of it the request waited for. */
  readonly connect?: number | undefined;
  readonly tls?: number | undefined;
  /** The new connection was ready before the request was handed to it (opened during the CONNECT). */
  readonly openedAhead?: boolean | undefined;
  /** From the request being on its connection to the response head, and from there to the last byte. */
  readonly wait: number;
  readonly receive: number;
}

/** The timing fields of `t` (epoch ms milestones) for `--flow-detail 4`. */
export function timingDetail(t: FlowTimings): TimingDetail {
  const since = (at: number | undefined): number | undefined => (at === undefined ? undefined : at - t.start);
  const between = (from: number | undefined, to: number | undefined): number | undefined =>
    from === undefined || to === undefined ? undefined : to - from;
  const phases = timingPhases(t);
  const ready = t.tlsEnd ?? t.connectEnd;
  const detail: TimingDetail = {
    requestSent: since(t.requestSent),
    responseStart: since(t.responseStart),
    end: since(t.end),
    connection: t.connection,
    connect: between(t.connectStart, t.connectEnd),
    tls: between(t.tlsStart, t.tlsEnd),
    openedAhead: t.connection === 'new' && ready !== undefined && t.requestSent !== undefined ? ready <= t.requestSent : undefined,
    wait: phases.wait,
    receive: phases.receive,
  };
  return Object.fromEntries(Object.entries(detail).filter(([, value]) => value !== undefined)) as unknown as TimingDetail;
}

/** `timings: connect 2 ms, TLS 9 ms, wait 14 ms, receive 1 ms (new origin connection)` and the milestones. */
export function timingLines(t: TimingDetail, style: TermStyle): string[] {
  const milestones = [
    t.requestSent === undefined ? undefined : `sent +${t.requestSent} ms`,
    t.responseStart === undefined ? undefined : `response head +${t.responseStart} ms`,
    t.end === undefined ? undefined : `end +${t.end} ms`,
  ].filter((part) => part !== undefined);
  const phases = [
    t.connect === undefined ? undefined : `connect ${formatDuration(t.connect)}`,
    t.tls === undefined ? undefined : `TLS ${formatDuration(t.tls)}`,
    `wait ${formatDuration(t.wait)}`,
    `receive ${formatDuration(t.receive)}`,
  ].filter((part) => part !== undefined);
  const connection =
    t.connection === 'reused'
      ? ' (reused origin connection: no connect, no TLS)'
      : t.connection === 'new'
        ? t.openedAhead === true
          ? ' (new origin connection, opened during the CONNECT before the request)'
          : ' (new origin connection)'
        : '';
  const lines = [style.dim(`timings: ${phases.join(', ')}${connection}`)];
  if (milestones.length > 0) lines.push(style.dim(`milestones: ${milestones.join(', ')}`));
  return lines;
}

/** The TLS lines: the client side, the origin side, the origin's certificate. */
export function tlsLines(tls: FlowTls | undefined, style: TermStyle): string[] {
  if (tls === undefined) return [];
  const lines: string[] = [];
  if (tls.client) lines.push(`tls client: ${clientSide(tls.client)}`);
  if (tls.origin) lines.push(`tls origin: ${originSide(tls.origin)}`);
  const cert = tls.origin?.certificate;
  if (cert) {
    const sans = cert.sans.length > 0 ? ` (${cert.sans.join(', ')})` : '';
    lines.push(`origin certificate: ${cert.subject}${sans} issued by ${cert.issuer}, valid ${cert.validFrom} → ${cert.validTo}`);
    lines.push(`origin certificate sha256: ${cert.sha256}`);
  }
  return lines.map((line) => style.dim(printable(line)));
}

function clientSide(client: ClientTlsFacts): string {
  const offered =
    client.alpnOffered === undefined ? '' : `offered ${client.alpnOffered.length > 0 ? client.alpnOffered.join(', ') : 'none'} → `;
  return `SNI ${client.sni || '(none)'}, ALPN ${offered}${client.alpn ?? 'none'}, ${client.version} ${client.cipher}`;
}

function originSide(origin: OriginTlsFacts): string {
  return `SNI ${origin.sni || '(none)'}, ALPN ${origin.alpn ?? 'none'}, ${origin.version} ${origin.cipher}${origin.resumed ? ' (resumed session)' : ''}`;
}
