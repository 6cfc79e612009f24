import path from 'node:path';
import type { CertificateAuthority } from '../../ca/authority.js';

/**
 * The one line `mitm start` and `mitm run` print about the root CA in use, so a user who starts
 * mitm from another folder sees which CA (and whether a new one) signs the certificates.
 */
export function caNotice(ca: CertificateAuthority, created: boolean): string {
  const certificate = path.join(ca.dir, 'ca.pem');
  return created ? `CA: ${certificate} (created now; trust it to see HTTPS traffic)` : `CA: ${certificate} (loaded)`;
}

/** What `mitm start` says on the first Ctrl-C, while it waits for open connections to end. */
export function closingNotice(connections: number): string {
  const count = `${connections} connection${connections === 1 ? '' : 's'}`;
  return connections === 0 ? `closing (${count})…` : `closing (${count})… press Ctrl-C again to exit at once`;
}
