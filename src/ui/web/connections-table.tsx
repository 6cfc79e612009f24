import type { ConnectionEvent } from '../api-types.js';

const KIND: Readonly<Record<ConnectionEvent['kind'], string>> = {
  tunnel: 'tunnelled',
  'auto-passthrough': 'auto-passthrough',
  'client-issue': 'refused / failed',
};

/** Connections that carried no inspectable flow, newest first, with why. */
export function ConnectionsTable(props: { readonly events: readonly ConnectionEvent[] }) {
  if (props.events.length === 0) {
    return <div class="muted pad">No tunnels, pinned clients or refused handshakes so far.</div>;
  }
  const events = [...props.events].reverse().slice(0, 2000);
  return (
    <div class="connections">
      <table data-testid="connections">
        <thead>
          <tr>
            <th>Time</th>
            <th>Kind</th>
            <th>Client</th>
            <th>Host</th>
            <th>Code</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.seq} class={`k-${event.kind}`}>
              <td>{new Date(event.time).toLocaleTimeString()}</td>
              <td>{KIND[event.kind]}</td>
              <td>
                {event.client.address}:{event.client.port}
              </td>
              <td>{event.host === undefined ? '' : `${event.host}${event.port === undefined ? '' : `:${event.port}`}`}</td>
              <td>{event.code ?? ''}</td>
              <td>{event.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
