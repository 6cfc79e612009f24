// The preload `mitm run` puts in NODE_OPTIONS (`--import <file URL of this module>`), so Node
// programs it starts send their requests through the proxy. It must never break the program it is
// loaded into: every failure, including a missing dependency, becomes one warning line on stderr.
try {
  const { installEnvProxy } = await import('./env-proxy.js');
  installEnvProxy();
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mitm preload: not routing this process through the proxy: ${reason.split('\n')[0] ?? ''}\n`);
}

// A module, so the top-level await above is allowed and this file has no exports to offer.
export {};
