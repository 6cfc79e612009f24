// Our Via field (RFC 9110 §7.6.3) on forwarded requests, and loop detection by it: each running
// proxy has its own token in the comment, so a request that comes back through the same instance
// is recognised, while a second mitm chained behind it (another token) still forwards.
import { randomBytes } from 'node:crypto';
import { setRawHeader } from '../flow/header-map.js';

/** A fresh per-instance marker, e.g. `mitm-id 1f2e3d4c5b6a`. */
export function newViaMarker(): string {
  return `mitm-id ${randomBytes(6).toString('hex')}`;
}

/** The request's raw headers with our hop appended to Via: `1.1 mitm (mitm-id …)`. */
export function withVia(raw: readonly string[], httpVersion: string, marker: string): string[] {
  const protocol = httpVersion.startsWith('2') ? '2' : httpVersion;
  const ours = `${protocol} mitm (${marker})`;
  // Several Via fields combine into one list (RFC 9110 §5.3), ours last.
  const previous: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]?.toLowerCase() === 'via' && raw[i + 1] !== '') previous.push(raw[i + 1] ?? '');
  return setRawHeader(raw, 'Via', [...previous, ours].join(', '));
}

/** True when a Via field of `raw` carries `marker`: the request already passed this proxy. */
export function carriesVia(raw: readonly string[], marker: string): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === 'via' && (raw[i + 1] ?? '').includes(marker)) return true;
  }
  return false;
}
