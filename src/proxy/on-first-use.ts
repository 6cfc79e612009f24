// Handlers of features few connections use (the WebSocket relay, SOCKS5), loaded on their first
// use rather than at start-up, which then compiles less (docs/performance.md, "Start-up", round three).
import type { EventEmitter } from 'node:events';

/**
 * A handler whose implementation `load` imports on the first call. Calls made while it loads wait
 * for it, in order; until then their stream (`streamOf`) has an 'error' listener, as Node's HTTP
 * server no longer listens on an upgraded socket and an unheard error would end the process. If the
 * import fails, each waiting stream is destroyed with the error.
 */
export function loadOnFirstUse<A extends unknown[]>(
  load: () => Promise<(...args: A) => void>,
  streamOf: (...args: A) => EventEmitter & { destroy(error?: Error): void },
): (...args: A) => void {
  let handler: ((...args: A) => void) | undefined;
  let loading: Promise<(...args: A) => void> | undefined;
  return (...args) => {
    if (handler !== undefined) {
      handler(...args);
      return;
    }
    loading ??= load().then((loaded) => {
      handler = loaded;
      return loaded;
    });
    const stream = streamOf(...args);
    const ignore = (): void => undefined;
    stream.on('error', ignore);
    void loading.then(
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
}
