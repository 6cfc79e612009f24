import { useEffect, useState } from 'preact/hooks';
import type { HeldView } from '../api-types.js';
import { callApi } from './actions.js';
import { editsOf, MessageEditor, seedValue, type EditorSeed } from './message-editor.js';

/** Seconds left before a held flow times out. */
function useSecondsLeft(deadline: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

/** A flow held at a breakpoint, open in the editor: change it, then Resume, Abort or Answer with a mock. */
export function HeldEditor(props: { readonly held: HeldView; readonly onClose: () => void }) {
  const { held } = props;
  const seed: EditorSeed = {
    method: held.method,
    url: held.url,
    status: held.status,
    headers: held.headers,
    body: held.body,
    bodyNote: held.bodyNote,
  };
  const [value, setValue] = useState(() => seedValue(seed));
  const [mock, setMock] = useState({ status: '200', type: 'text/plain', body: '' });
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const left = useSecondsLeft(held.deadline);
  const act = (verb: string, body?: unknown): void => {
    setProblem(undefined);
    callApi(`/held/${held.flowId}/${verb}`, body).catch((error: unknown) =>
      setProblem(String(error instanceof Error ? error.message : error)),
    );
  };
  const resume = (): void => {
    try {
      act('resume', editsOf(seed, value, held.phase));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };
  const answer = (): void => {
    const status = Number(mock.status);
    act('answer', { status, headers: mock.type === '' ? [] : [['content-type', mock.type]], body: mock.body });
  };
  return (
    <div class="detail held-editor" data-testid="held-editor">
      <div class="detail-head">
        <span class="tag held-tag">‖ held · {held.phase}</span>
        <span class="method">{held.method}</span> <span class="url">{held.url}</span>
        <span class="muted" data-testid="held-left">
          times out in {left} s
        </span>
        <button type="button" class="close" onClick={props.onClose} title="Close (the flow stays held)">
          ×
        </button>
      </div>
      <div class="detail-actions">
        <button type="button" class="primary" onClick={resume} data-testid="held-resume">
          Resume
        </button>
        <button type="button" onClick={() => act('abort')} data-testid="held-abort" title="The client gets 502 breakpoint_aborted">
          Abort
        </button>
      </div>
      {problem ? (
        <div class="error-banner" data-testid="held-problem">
          {problem}
        </div>
      ) : null}
      <div class="detail-body">
        <MessageEditor kind={held.phase} seed={seed} value={value} onChange={setValue} />
        <section class="mock-form">
          <h3>Answer with a mock instead</h3>
          <div class="editor-line">
            <label>
              Status{' '}
              <input
                class="editor-status"
                value={mock.status}
                onInput={(event) => setMock({ ...mock, status: event.currentTarget.value })}
                data-testid="mock-status"
              />
            </label>
            <label>
              Content-Type <input value={mock.type} onInput={(event) => setMock({ ...mock, type: event.currentTarget.value })} />
            </label>
          </div>
          <textarea
            class="editor-body"
            rows={4}
            value={mock.body}
            onInput={(event) => setMock({ ...mock, body: event.currentTarget.value })}
            data-testid="mock-body"
          />
          <button type="button" onClick={answer} data-testid="held-answer">
            Answer with mock
          </button>
        </section>
      </div>
    </div>
  );
}
