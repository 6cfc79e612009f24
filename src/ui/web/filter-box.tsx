import { useRef } from 'preact/hooks';
import type { FilterProblem } from '../api-types.js';

/** One-click filters: each toggles its term in the filter text. */
export const CHIPS: ReadonlyArray<{ readonly label: string; readonly term: string }> = [
  { label: 'Errors', term: 'error:' },
  { label: '4xx/5xx', term: 'status:>=400' },
  { label: 'JSON', term: 'type:json' },
  { label: 'WebSockets', term: 'type:ws' },
  { label: 'Slow', term: 'duration:>1s' },
];

/** Adds `term` to the filter text, or takes it out when it is there. */
export function toggleTerm(text: string, term: string): string {
  const words = text.split(/\s+/).filter((word) => word !== '');
  return words.includes(term) ? words.filter((word) => word !== term).join(' ') : [...words, term].join(' ');
}

/** The filter input; a parse error is underlined where the filter language says it is. */
export function FilterBox(props: {
  readonly text: string;
  readonly problem: FilterProblem | undefined;
  readonly onChange: (text: string) => void;
}) {
  const { text, problem } = props;
  const mirror = useRef<HTMLDivElement>(null);
  const start = problem ? Math.min(text.length, problem.column - 1) : 0;
  const end = problem ? Math.min(text.length, start + Math.max(1, problem.length)) : 0;
  const words = text.split(/\s+/);
  return (
    <div class="filter-bar">
      <div class={`filter-box${problem ? ' invalid' : ''}`}>
        <div class="filter-mirror" ref={mirror} aria-hidden="true">
          {problem ? (
            <>
              {text.slice(0, start)}
              <span class="filter-error-mark">{end > start ? text.slice(start, end) : ' '}</span>
              {text.slice(end)}
            </>
          ) : null}
        </div>
        <input
          type="search"
          spellcheck={false}
          autocomplete="off"
          placeholder="Filter: host:api.test status:5xx type:json -method:OPTIONS   (docs/filters.md)"
          value={text}
          data-testid="filter"
          onInput={(event) => props.onChange((event.currentTarget as HTMLInputElement).value)}
          onScroll={(event) => {
            if (mirror.current) mirror.current.scrollLeft = (event.currentTarget as HTMLInputElement).scrollLeft;
          }}
        />
      </div>
      <div class="chips">
        {CHIPS.map((chip) => (
          <button
            type="button"
            key={chip.term}
            class={`chip${words.includes(chip.term) ? ' on' : ''}`}
            title={chip.term}
            onClick={() => props.onChange(toggleTerm(text, chip.term))}
          >
            {chip.label}
          </button>
        ))}
      </div>
      {problem ? (
        <div class="filter-problem" data-testid="filter-problem">
          {problem.message}
        </div>
      ) : null}
    </div>
  );
}
