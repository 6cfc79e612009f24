import { useEffect, useRef, useState } from 'preact/hooks';
import { MAX_IMPORT_BYTES, type ImportResult } from '../api-types.js';

const API = '/api/v1';

type Outcome = { readonly ok: boolean; readonly text: string };

async function upload(file: File): Promise<Outcome> {
  // The server's cap, checked first to say so before uploading.
  if (file.size > MAX_IMPORT_BYTES)
    return { ok: false, text: `${file.name} is over ${MAX_IMPORT_BYTES / 2 ** 20} MiB, too large to import` };
  const res = await fetch(`${API}/import?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: file,
  });
  const answer = (await res.json()) as ImportResult | { error: { message: string } };
  if ('error' in answer) return { ok: false, text: answer.error.message };
  return { ok: true, text: `Imported ${answer.imported} flow${answer.imported === 1 ? '' : 's'} from ${file.name}` };
}

/**
 * HAR import: a file drag-and-dropped anywhere on the page, or picked with the button (for the
 * keyboard and screen readers), is sent to the API; the flows arrive in the list marked imported.
 */
export function HarImport(props: { readonly disabled: boolean }) {
  const [dragging, setDragging] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
  const picker = useRef<HTMLInputElement>(null);
  const disabled = props.disabled;

  const send = (files: FileList | null | undefined): void => {
    const file = files?.[0];
    if (!file) return;
    setOutcome({ ok: true, text: `Importing ${file.name}…` });
    upload(file)
      .then(setOutcome)
      .catch((error: unknown) => setOutcome({ ok: false, text: `${file.name} could not be imported: ${String(error)}` }));
  };

  useEffect(() => {
    if (disabled) return undefined;
    const carriesFiles = (event: DragEvent): boolean => event.dataTransfer?.types.includes('Files') === true;
    const over = (event: DragEvent): void => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      setDragging(true);
    };
    const leave = (event: DragEvent): void => {
      if (event.relatedTarget === null) setDragging(false);
    };
    const drop = (event: DragEvent): void => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      setDragging(false);
      send(event.dataTransfer?.files);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [disabled]);

  return (
    <>
      <button
        type="button"
        onClick={() => picker.current?.click()}
        disabled={disabled}
        title={disabled ? 'read-only store' : 'Import a HAR file (or drop one on the page)'}
      >
        Import HAR
      </button>
      <input
        ref={picker}
        type="file"
        accept=".har,application/json"
        class="hidden"
        aria-label="HAR file to import"
        data-testid="import-har"
        onChange={(event) => {
          send(event.currentTarget.files);
          event.currentTarget.value = '';
        }}
      />
      {dragging ? <div class="drop-zone">Drop a HAR file to import its flows</div> : null}
      {outcome ? (
        <div class={`import-outcome${outcome.ok ? '' : ' failed'}`} role="status" data-testid="import-outcome">
          {outcome.text}{' '}
          <button type="button" onClick={() => setOutcome(undefined)}>
            hide
          </button>
        </div>
      ) : null}
    </>
  );
}
