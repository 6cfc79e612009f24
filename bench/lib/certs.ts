// A throwaway CA and an origin certificate, made with openssl, valid for 127.0.0.1, the "new host"
// addresses 127.0.1.1…127.0.1.N (all loopback on Linux) and the new host names *.newhost.test.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of the origin's PEM files. */
export interface OriginPki {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

/** The i-th "new host" (1-based): a distinct loopback address, so each needs its own leaf. */
export function newHost(i: number): string {
  return `127.0.1.${i}`;
}

/** The domain of the "new host" names; proxies that run workload 2 by name resolve it to 127.0.0.1. */
export const NEW_HOST_DOMAIN = 'newhost.test';

/** The i-th "new host" by name (1-based): a distinct name, so each needs its own leaf. */
export function newHostName(i: number): string {
  return `h${i}.${NEW_HOST_DOMAIN}`;
}

/** Creates the CA and the origin's key and certificate in `dir` (hosts ≤ 250). */
export function makeOriginPki(dir: string, hosts: number): OriginPki {
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=mitm bench origin CA',
    '-keyout',
    path('ca-key.pem'),
    '-out',
    path('ca.pem'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', path('origin-key.pem'), '-out', path('origin.csr'));
  const ips = ['127.0.0.1', ...Array.from({ length: hosts }, (_, i) => newHost(i + 1))];
  writeFileSync(
    path('origin.ext'),
    [
      `subjectAltName=DNS:localhost,DNS:*.${NEW_HOST_DOMAIN},${ips.map((ip) => `IP:${ip}`).join(',')}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  openssl(
    'x509',
    '-req',
    '-in',
    path('origin.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca-key.pem'),
    '-set_serial',
    `0x${Date.now().toString(16)}`,
    '-days',
    '2',
    '-extfile',
    path('origin.ext'),
    '-out',
    path('origin.pem'),
  );
  return { caCert: path('ca.pem'), cert: path('origin.pem'), key: path('origin-key.pem') };
}
