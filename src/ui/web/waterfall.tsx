import type { FlowDetail } from '../api-types.js';
import { formatMs } from './format.js';

/** One bar: its label, and where it starts and ends in ms from the request head's arrival. */
interface Bar {
  readonly key: string;
  readonly label: string;
  readonly from: number;
  readonly to: number;
}

/**
 * The flow's phases (computed by the server, as the HAR has them) as a waterfall: the proxy's own
 * work, then connect and TLS when a new origin connection was opened for the request, wait and
 * receive. A reused connection, or one opened ahead of the request, says so under the bars.
 */
export function Waterfall(props: { readonly flow: FlowDetail }) {
  const { timings: t, phases: p } = props.flow;
  const bars: Bar[] = [];
  let at = 0;
  const add = (key: string, label: string, ms: number): void => {
    if (ms < 0) return;
    bars.push({ key, label, from: at, to: at + ms });
    at += ms;
  };
  add('send', 'proxy and hooks', p.send);
  add('blocked', 'queued', p.blocked);
  // `connect` includes `ssl`, as in HAR: the bars split it.
  add('connect', 'connect', p.ssl >= 0 ? p.connect - p.ssl : p.connect);
  add('tls', 'TLS', p.ssl);
  add('wait', 'wait', p.wait);
  add('receive', 'receive', p.receive);
  const total = Math.max(1, at);
  const ownConnect = t.connectStart !== undefined && t.connectEnd !== undefined ? t.connectEnd - t.connectStart : undefined;
  const ownTls = t.tlsStart !== undefined && t.tlsEnd !== undefined ? t.tlsEnd - t.tlsStart : undefined;
  const ready = t.tlsEnd ?? t.connectEnd;
  const ahead = t.connection === 'new' && ready !== undefined && t.requestSent !== undefined && ready <= t.requestSent;
  return (
    <section>
      <h3>Timing · {formatMs(at)}</h3>
      <table class="waterfall" data-testid="waterfall">
        <tbody>
          {bars.map((bar) => (
            <tr key={bar.key} data-phase={bar.key}>
              <th>{bar.label}</th>
              <td>
                <div class="bar-track">
                  <div
                    class={`bar bar-${bar.key}`}
                    style={{ marginLeft: `${(bar.from / total) * 100}%`, width: `${Math.max(0.5, ((bar.to - bar.from) / total) * 100)}%` }}
                  />
                </div>
              </td>
              <td class="t">{formatMs(bar.to - bar.from)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted" data-testid="origin-connection">
        {t.connection === 'reused'
          ? 'Reused origin connection: no connect, no TLS for this request.'
          : t.connection === 'new'
            ? `New origin connection${ownConnect === undefined ? '' : `: connect ${formatMs(ownConnect)}`}${
                ownTls === undefined ? '' : `, TLS ${formatMs(ownTls)}`
              }${ahead ? ', opened during the CONNECT, before the request' : ''}.`
            : 'No origin connection (answered by the proxy or a hook).'}{' '}
        Started {new Date(t.start).toISOString()}
      </p>
    </section>
  );
}
