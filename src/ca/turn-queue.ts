// Spreads synchronous work over event-loop iterations, so that a burst of it (a page that opens
// connections to 200 new hosts at once) never holds up the connections already being served.

/**
 * Returns a function whose promises resolve one per event-loop iteration, in call order. Each
 * setImmediate is queued from the previous one's callback, so it runs in the next iteration, after
 * timers and I/O have had their turn.
 */
export function createTurnQueue(): () => Promise<void> {
  const waiting: Array<() => void> = [];
  let head = 0;
  const releaseOne = (): void => {
    waiting[head++]?.();
    if (head < waiting.length) {
      setImmediate(releaseOne);
    } else {
      waiting.length = 0;
      head = 0;
    }
  };
  return () =>
    new Promise<void>((resolve) => {
      if (waiting.push(resolve) === 1) setImmediate(releaseOne);
    });
}
