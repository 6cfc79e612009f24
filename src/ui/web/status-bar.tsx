import type { UiStats } from '../api-types.js';
import { formatBytes } from './format.js';

/**
 * Whether the push channel is up, the proxy's listeners and modes, flow counts, the CA with its
 * download link, the store and its size, and the memory the inspector's process uses.
 */
export function StatusBar(props: { readonly stats: UiStats | undefined; readonly shown: number; readonly connected: boolean }) {
  const { stats } = props;
  return (
    <footer class="status-bar" data-testid="status-bar">
      <span class={props.connected ? 'live' : 'offline'}>{props.connected ? '● live' : '○ reconnecting'}</span>
      {stats?.listeners && stats.listeners.length > 0 ? (
        <span data-testid="listeners">{stats.listeners.map((listener) => `${listener.address} (${listener.mode})`).join(' · ')}</span>
      ) : null}
      <span data-testid="counts">
        {props.shown} shown · {stats?.flows ?? 0} flows
      </span>
      {stats?.source === 'proxy' ? <span>{stats.connections} connections</span> : null}
      {stats?.caFingerprint ? (
        <span data-testid="ca" data-fingerprint={stats.caFingerprint} title={`root CA, SHA-256 ${stats.caFingerprint}`}>
          CA {stats.caFingerprint.slice(0, 23)}…{' '}
          {stats.caPath ? (
            <a href={stats.caPath} download="mitm-ca.pem" data-testid="ca-download">
              download
            </a>
          ) : null}
        </span>
      ) : null}
      {stats?.store ? (
        <span data-testid="store" title={stats.store.file}>
          store {basename(stats.store.file)}: {stats.store.flows} flows, {formatBytes(stats.store.bytes)}
          {stats.readOnly ? ', read-only' : ''}
        </span>
      ) : null}
      {stats ? (
        <span data-testid="memory" title="the inspector's process: resident set, and the JavaScript heap in use">
          memory {formatBytes(stats.memory.rss)} (heap {formatBytes(stats.memory.heapUsed)})
        </span>
      ) : null}
    </footer>
  );
}

/** The last part of a path; the whole path is the element's title. */
function basename(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
