import { globToRegExp } from '../net/glob.js';

/** What to do with a CONNECT: decrypt and inspect it, or pipe its bytes untouched. */
export type ConnectDecision = 'intercept' | 'tunnel';

/** A decision and the rule that made it, for logs (`--passthrough *.apple.com`). */
export interface HostDecision {
  readonly action: ConnectDecision;
  readonly reason: string;
}

/**
 * Compiles `--passthrough` and `--intercept` globs into one decision function. A host is tunnelled
 * when it matches a passthrough glob, or when intercept globs exist and it matches none of them;
 * passthrough wins where both match, so a user can carve exceptions out of a broad intercept.
 */
export function createHostPolicy(rules: {
  readonly passthrough: readonly string[];
  readonly intercept: readonly string[];
}): (host: string) => HostDecision {
  const passthrough = rules.passthrough.map((glob) => ({ glob, pattern: globToRegExp(glob) }));
  const intercept = rules.intercept.map(globToRegExp);
  return (host) => {
    const rule = passthrough.find(({ pattern }) => pattern.test(host));
    if (rule) return { action: 'tunnel', reason: `--passthrough ${rule.glob}` };
    if (intercept.length > 0 && !intercept.some((pattern) => pattern.test(host))) {
      return { action: 'tunnel', reason: 'no --intercept glob matches' };
    }
    return { action: 'intercept', reason: 'default' };
  };
}
