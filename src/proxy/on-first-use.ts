// Handlers of features few connections use (the WebSocket relay, SOCKS5), loaded after the ready
// line (startProxy's warm-up) or on their first use if that comes first, rather than before it
// (docs/performance.md, "Start-up", round three).
import type { EventEmitter } from 'node:events';

/** A handler loaded on its first call, or earlier by `preload()`. */
export interface LazyHandler<A extends unknown[]> {
  (...args: A): void;
  /** Starts loading now (startProxy's warm-up after the ready line); a failure shows on the first call. */
  preload(): void;
}

/**
 * A handler whose implementation `load` imports on the first call. Calls made while it loads wait
 * for it, in order; until then their stream (`streamOf`) has an 'error' listener, as Node's HTTP
 * server no longer listens on an upgraded socket and an unheard error would end the process. If the
 * import fails, each waiting stream is destroyed with the error.
 */
export function loadOnFirstUse<A extends unknown[]>(
  load: () => Promise<(...args: A) => void>,
  streamOf: (...args: A) => EventEmitter & { destroy(error?: Error): void },
): LazyHandler<A> {
  let handler: ((...args: A) => void) | undefined;
  let loading: Promise<(...args: A) => void> | undefined;
  const start = (): Promise<(...args: A) => void> => {
    loading ??= load().then((loaded) => {
      handler = loaded;
      return loaded;
    });
    return loading;
  };
  const call = (...args: A): void => {
    if (handler !== undefined) {
      handler(...args);
      return;
    }
    const stream = streamOf(...args);
    const ignore = (): void => undefined;
    stream.on('error', ignore);
    void start().then(
      (loaded) => {
        stream.off('error', ignore);
        loaded(...args);
      },
      (error: unknown) => {
        stream.off('error', ignore);
        stream.destroy(error instanceof Error ? error : new Error(String(error)));
      },
    );
  };
  return Object.assign(call, { preload: () => void start().catch(() => undefined) });
}
