import type { UiStats } from '../api-types.js';
import { formatBytes } from './format.js';

/** Flow counts, the CA with its download link, the store, memory, and whether the push channel is up. */
export function StatusBar(props: { readonly stats: UiStats | undefined; readonly shown: number; readonly connected: boolean }) {
  const { stats } = props;
  return (
    <footer class="status-bar" data-testid="status-bar">
      <span class={props.connected ? 'live' : 'offline'}>{props.connected ? '● live' : '○ reconnecting'}</span>
      <span data-testid="counts">
        {props.shown} shown · {stats?.flows ?? 0} flows
      </span>
      {stats ? <span>{stats.connections} connections</span> : null}
      {stats?.caFingerprint ? (
        <span title={`SHA-256 ${stats.caFingerprint}`}>
          CA {stats.caFingerprint.slice(0, 23)}…{' '}
          {stats.caPath ? (
            <a href={stats.caPath} download="mitm-ca.pem">
              download
            </a>
          ) : null}
        </span>
      ) : null}
      {stats?.store ? (
        <span>
          store {stats.store.file} ({formatBytes(stats.store.bytes)}){stats.readOnly ? ', read-only' : ''}
        </span>
      ) : null}
      {stats ? <span>memory {formatBytes(stats.memory.rss)}</span> : null}
    </footer>
  );
}
