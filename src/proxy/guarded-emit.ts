// Event listeners are user code called from socket callbacks; one that throws must not end the
// process (issue #11), nor keep the listeners after it from running.

/**
 * Calls each of `listeners` with `args` (`this` = `target`), as EventEmitter#emit does, handing
 * any throw, or rejection of a returned promise, to `onFault`; true when there was a listener.
 */
export function callListeners(
  target: object,
  listeners: readonly ((...args: never[]) => unknown)[],
  args: readonly unknown[],
  onFault: (error: unknown) => void,
): boolean {
  // rawListeners gives `once` wrappers, which remove themselves when called, as emit would.
  for (const listener of [...listeners]) {
    try {
      const result: unknown = Reflect.apply(listener, target, args);
      if (isThenable(result)) result.then(undefined, onFault);
    } catch (error) {
      onFault(error);
    }
  }
  return listeners.length > 0;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
