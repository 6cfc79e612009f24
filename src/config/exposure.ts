// Not an open proxy: a listener other machines can reach must know whom to serve (the idea of
// mitmproxy's block_global). Checked at start, before anything listens.
import { MitmError } from '../errors.js';
import { isLoopbackHost } from '../net/cidr.js';
import { parseListenAddress } from './listen-address.js';
import { parseMode } from './modes.js';
import type { ProxyConfig } from './schema.js';

/**
 * Throws `config_invalid` naming the flag to add when a listener binds a non-loopback address with
 * neither `--allow-client` nor proxy credentials (which only regular listeners can ask for).
 */
export function checkExposure(config: ProxyConfig): void {
  if (config.allowClient.length > 0) return;
  const credentials = config.proxyAuth.length > 0 || config.proxyAuthFile !== undefined;
  const modes =
    config.mode.length === 0
      ? [{ kind: 'regular' as const, host: config.host }]
      : config.mode.map((text) => {
          const mode = parseMode(text);
          return { kind: mode.kind, host: mode.listen?.host ?? config.host };
        });
  for (const { kind, host } of modes) {
    if (isLoopbackHost(host)) continue;
    if (kind === 'regular' && credentials) continue;
    const allow = 'add --allow-client CIDR (the networks to serve, e.g. --allow-client 192.168.1.0/24)';
    const add =
      kind === 'regular' ? `${allow} or --proxy-auth USER:PASS` : `${allow}; proxy credentials cannot be asked for on a ${kind} listener`;
    throw new MitmError(
      'config_invalid',
      `listening on ${host} (${kind}) would make an open proxy for every machine that can reach it: ${add}`,
    );
  }
  if (config.metrics !== undefined) {
    const { host } = parseListenAddress(config.metrics);
    if (!isLoopbackHost(host))
      throw new MitmError('config_invalid', `--metrics ${config.metrics} would publish metrics to other machines: add --allow-client CIDR`);
  }
}
