import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { FlowDetail, HeaderPair, MessageView } from '../api-types.js';
import { BodyViewer } from './body-viewer.js';
import { toCurl, toFetch, toHttpie } from './copy-as.js';
import { formatBytes, formatMs, statusClass } from './format.js';
import { fromBase64, hexDump } from './hex.js';
import { SseEvents } from './sse-events.js';
import { TlsFacts } from './tls-facts.js';
import { Waterfall } from './waterfall.js';

type Tab = 'request' | 'response' | 'messages' | 'events' | 'timing';

function Pairs(props: { readonly title: string; readonly pairs: readonly HeaderPair[]; readonly testId?: string }) {
  if (props.pairs.length === 0) return null;
  return (
    <section>
      <h3>{props.title}</h3>
      <table class="pairs" data-testid={props.testId}>
        <tbody>
          {props.pairs.map(([name, value], index) => (
            <tr key={index}>
              <th>{name}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function queryPairs(url: string): HeaderPair[] {
  try {
    return [...new URL(url).searchParams];
  } catch {
    return [];
  }
}

function cookiePairs(headers: readonly HeaderPair[]): HeaderPair[] {
  return headers
    .filter(([name]) => name.toLowerCase() === 'cookie')
    .flatMap(([, value]) => value.split(';'))
    .map((part): HeaderPair => {
      const at = part.indexOf('=');
      return at < 0 ? [part.trim(), ''] : [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    })
    .filter(([name]) => name !== '');
}

function formPairs(flow: FlowDetail): HeaderPair[] {
  const body = flow.requestBody;
  if (body?.text === undefined || body.mimeType !== 'application/x-www-form-urlencoded') return [];
  return [...new URLSearchParams(body.text)];
}

function Messages(props: { readonly flow: FlowDetail }) {
  const messages = props.flow.messages ?? [];
  const start = props.flow.timings.start;
  const preview = (message: MessageView): string =>
    message.text ?? (message.base64 !== undefined ? hexDump(fromBase64(message.base64), 256) : '');
  return (
    <section>
      <h3>
        {messages.length} messages{props.flow.messagesOmitted ? ` (${props.flow.messagesOmitted} more not recorded)` : ''}
      </h3>
      <table class="messages" data-testid="ws-messages">
        <tbody>
          {messages.map((message, index) => (
            <tr key={index} class={message.direction === 'client-to-server' ? 'out' : 'in'}>
              <td class="dir" title={message.direction}>
                {message.direction === 'client-to-server' ? '↑' : '↓'}
              </td>
              <td class="t">{formatMs(message.time - start)}</td>
              <td class="ty">{message.type}</td>
              <td class="sz">
                {formatBytes(message.size)}
                {message.cut ? ' (cut)' : ''}
              </td>
              <td>
                <pre>{preview(message)}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The detail of one flow: request, response, WebSocket messages, timing and TLS; copy as curl / fetch. */
export function DetailPane(props: {
  readonly flow: FlowDetail | undefined;
  readonly missing: boolean;
  readonly onClose: () => void;
  /** Shown under the actions: replay and its diff (replay-actions.tsx). */
  readonly replay?: ComponentChildren;
}) {
  const { flow } = props;
  const [tab, setTab] = useState<Tab>('response');
  const [copied, setCopied] = useState<{ kind: string; text: string } | undefined>(undefined);
  if (props.missing) return <div class="detail muted">This flow is no longer kept (the proxy's ring moved on).</div>;
  if (!flow) return <div class="detail muted">Select a flow.</div>;
  const copy = (kind: string, text: string): void => {
    setCopied({ kind, text });
    void navigator.clipboard?.writeText(text).catch(() => undefined);
  };
  const tabs: Tab[] = flow.webSocket
    ? ['request', 'response', 'messages', 'timing']
    : flow.events
      ? ['request', 'response', 'events', 'timing']
      : ['request', 'response', 'timing'];
  const shown = tabs.includes(tab) ? tab : 'response';
  return (
    <div class="detail" data-testid="detail">
      <div class="detail-head">
        <span class="method">{flow.method}</span> <span class="url">{flow.url}</span>
        <span class={`status ${statusClass(flow.status)}`}>{flow.status ?? ''}</span>
        <button type="button" class="close" onClick={props.onClose} title="Close">
          ×
        </button>
      </div>
      {flow.error ? (
        <div class="error-banner">
          {flow.error.code}: {flow.error.message}
        </div>
      ) : null}
      <div class="detail-actions">
        <div class="tabs">
          {tabs.map((name) => (
            <button type="button" key={name} class={shown === name ? 'on' : ''} onClick={() => setTab(name)} data-tab={name}>
              {name === 'messages'
                ? `messages (${flow.messages?.length ?? 0})`
                : name === 'events'
                  ? `events (${flow.events?.length ?? 0})`
                  : name}
            </button>
          ))}
        </div>
        <button type="button" onClick={() => copy('curl', toCurl(flow))} data-testid="copy-curl">
          Copy as curl
        </button>
        <button type="button" onClick={() => copy('fetch', toFetch(flow))}>
          Copy as fetch
        </button>
        <button type="button" onClick={() => copy('HTTPie', toHttpie(flow))} data-testid="copy-httpie">
          Copy as HTTPie
        </button>
      </div>
      {props.replay}
      {copied ? (
        <div class="copied">
          <div>
            Copied as {copied.kind}:{' '}
            <button type="button" onClick={() => setCopied(undefined)}>
              hide
            </button>
          </div>
          <pre data-testid="copied-text">{copied.text}</pre>
        </div>
      ) : null}
      <div class="detail-body">
        {shown === 'request' ? (
          <>
            <Pairs title="Query parameters" pairs={queryPairs(flow.url)} />
            <Pairs title={`Request headers · HTTP/${flow.requestHttpVersion}`} pairs={flow.requestHeaders} testId="request-headers" />
            <Pairs title="Cookies" pairs={cookiePairs(flow.requestHeaders)} />
            <Pairs title="Form" pairs={formPairs(flow)} />
            <section>
              <h3>Request body</h3>
              <BodyViewer body={flow.requestBody} />
            </section>
            <p class="muted">
              Client {flow.client.address}:{flow.client.port}
              {flow.client.user ? ` (user ${flow.client.user})` : ''} · mode {flow.mode ?? 'regular'}
            </p>
          </>
        ) : null}
        {shown === 'response' ? (
          <>
            <p class="status-line">
              HTTP/{flow.responseHttpVersion ?? '?'} <span class={statusClass(flow.status)}>{flow.status ?? '—'}</span>{' '}
              {flow.statusMessage ?? ''}
              {flow.synthetic ? <span class="tag">answered by a hook</span> : null}
              {flow.tags.map((tag) => (
                <span class="tag" key={tag}>
                  {tag}
                </span>
              ))}
            </p>
            <Pairs title="Response headers" pairs={flow.responseHeaders} testId="response-headers" />
            <section>
              <h3>Response body</h3>
              <BodyViewer body={flow.responseBody} />
            </section>
            {flow.server ? (
              <p class="muted">
                Origin {flow.server.address}:{flow.server.port}
              </p>
            ) : null}
          </>
        ) : null}
        {shown === 'messages' ? <Messages flow={flow} /> : null}
        {shown === 'events' && flow.events ? <SseEvents events={flow.events} /> : null}
        {shown === 'timing' ? (
          <>
            <Waterfall flow={flow} />
            <TlsFacts tls={flow.tls} />
          </>
        ) : null}
      </div>
    </div>
  );
}
