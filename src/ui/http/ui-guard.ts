import type { Hook } from '../../hooks/types.js';

/**
 * A hook that keeps the inspector out of reach through the proxy: a CONNECT to its port on a
 * loopback name is rejected, and a plain request to it is answered 403 without being forwarded,
 * so a client of the proxy can neither open the inspector nor leak its cookie into recorded flows.
 */
export function uiGuardHook(ui: { readonly port: number }): Hook {
  const loopback = (host: string): boolean => host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
  return {
    name: 'ui-guard',
    onConnect: ({ host, port }) => (port === ui.port && loopback(host) ? 'reject' : undefined),
    onRequest(flow) {
      const url = new URL(flow.request.url);
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      if (port === ui.port && loopback(url.hostname)) {
        flow.respond({
          status: 403,
          headers: { 'content-type': 'text/plain' },
          body: 'the mitm inspector is not reachable through the proxy\n',
        });
      }
    },
  };
}
