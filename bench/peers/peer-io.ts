// What every proxy-starting script under bench/peers/ shares: its arguments, the ready line the
// runner waits for, and a clean exit on SIGTERM (so `node --cpu-prof` gets to write its profile).
import { parseArgs } from 'node:util';

/** `--origin-ca FILE` (the origin's CA, to trust) and `--state DIR` (the peer's own CA folder). */
export interface PeerArgs {
  readonly originCa: string;
  readonly state: string;
}

/** Reads the peer's arguments; both are required. */
export function peerArgs(): PeerArgs {
  const { values } = parseArgs({ options: { 'origin-ca': { type: 'string' }, state: { type: 'string' } } });
  const originCa = values['origin-ca'];
  const state = values.state;
  if (!originCa || !state) throw new Error('usage: --origin-ca FILE --state DIR');
  return { originCa, state };
}

/** Tells the runner the proxy listens on 127.0.0.1:`port` and clients must trust `ca` (PEM file). */
export function announce(port: number, ca: string): void {
  console.log(JSON.stringify({ port, ca }));
}

/** On SIGTERM or SIGINT: `close()` (at most 3 s), then exit 0. */
export function exitOnSignal(close: () => Promise<unknown>): void {
  const bye = (): void => {
    setTimeout(() => process.exit(0), 3000).unref();
    close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.once('SIGTERM', bye);
  process.once('SIGINT', bye);
}

/**
 * Imports a peer package by name. The name is not a literal on purpose: the peers are optional
 * devDependencies, and the type check must pass without them (each script declares the API it uses).
 */
export async function importPeer<T>(name: string): Promise<T> {
  return (await import(name)) as T;
}
