import type { SseEventView } from '../api-types.js';

/** The events of a `text/event-stream` response, in stream order: type, id and data. */
export function SseEvents(props: { readonly events: readonly SseEventView[] }) {
  return (
    <section>
      <h3>{props.events.length} events</h3>
      <table class="messages" data-testid="sse-events">
        <tbody>
          {props.events.map((event, index) => (
            <tr key={index} class="in">
              <td class="t">{index + 1}</td>
              <td class="ty">{event.event ?? 'message'}</td>
              <td class="sz">{event.id === undefined ? '' : `id ${event.id}`}</td>
              <td>
                <pre>{event.data}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
