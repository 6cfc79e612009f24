import { within, WAIT_MS } from './deadline.js';

/**
 * Resolves once `check()` is true, re-checking every `everyMs`; rejects after `ms` naming `what`
 * and the last value `describe` gives. For state with no event to await (a count of open
 * connections or file descriptors that settles a moment after the peer's close): a condition
 * with a deadline, not a sleep.
 */
export function until(
  check: () => boolean,
  what: string,
  options: { ms?: number; everyMs?: number; describe?: () => string } = {},
): Promise<void> {
  const everyMs = options.everyMs ?? 20;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const met = new Promise<void>((resolve) => {
    const poll = (): void => {
      if (stopped) return;
      if (check()) resolve();
      else timer = setTimeout(poll, everyMs).unref();
    };
    poll();
  });
  return within(met, () => `${what}${options.describe ? ` (now ${options.describe()})` : ''}`, options.ms ?? WAIT_MS).finally(() => {
    stopped = true;
    clearTimeout(timer);
  });
}
