import { subjectOfStored } from '../../record/filter/subject-of-stored.js';
import type { FilterPredicate, FilterSubject } from '../../record/filter/filter.js';
import { harEntryRows, parseHar } from '../../record/har-import.js';
import { storedFromRows } from '../../record/store/stored-from-rows.js';
import type { StoredFlow } from '../../record/store/types.js';
import { IMPORTED_ID_BASE, type FlowDetail, type FlowSummary } from '../api-types.js';
import { detailOfStored, summaryOfStored } from './stored-view.js';

/** A flow read from a HAR file, as the source lists and filters it. */
export interface ImportedFlow {
  readonly summary: FlowSummary;
  readonly subject: FilterSubject;
}

/**
 * Flows read from HAR files dropped on the page (`POST /api/v1/import`), kept in memory beside the
 * proxy's own and numbered from IMPORTED_ID_BASE up. The HAR is read by the same code as
 * `mitm flows import` (record/har-import.ts). At most `keep` are kept; the oldest go first.
 */
export class ImportedFlows {
  readonly #keep: number;
  readonly #flows = new Map<number, StoredFlow>();
  readonly #pinned = new Set<number>();
  #next = IMPORTED_ID_BASE;

  constructor(keep: number) {
    this.#keep = keep;
  }

  /** Reads a HAR file's text and keeps its entries; throws `config_invalid` naming `name` when it is not a HAR. */
  add(text: string, name: string): ImportedFlow[] {
    const har = parseHar(text, name);
    const added = har.log.entries.map((entry) => {
      const id = ++this.#next;
      const flow = storedFromRows(harEntryRows(entry, id), id);
      this.#flows.set(id, flow);
      return this.#entry(flow);
    });
    // The oldest go first, but never a pinned one: Clear keeps pins, and so does this limit.
    for (const id of this.#flows.keys()) {
      if (this.#flows.size <= this.#keep) break;
      if (!this.#pinned.has(id)) this.#flows.delete(id);
    }
    return added.filter((flow) => this.#flows.has(flow.summary.id));
  }

  /** The kept imported flows matching `filter` (and, when given, `ids`), in import order. */
  matching(filter: FilterPredicate, ids?: ReadonlySet<number>): StoredFlow[] {
    return [...this.#flows.values()].filter((flow) => (ids === undefined || ids.has(flow.id)) && filter(subjectOfStored(flow)));
  }

  /** Rows of `matching`. */
  list(filter: FilterPredicate): FlowSummary[] {
    return this.matching(filter).map((flow) => this.#entry(flow).summary);
  }

  /** One imported flow's detail. */
  detail(id: number): FlowDetail | undefined {
    const flow = this.#flows.get(id);
    return flow ? { ...detailOfStored(flow), imported: true, pinned: this.#pinned.has(id) } : undefined;
  }

  /** Pins or unpins an imported flow; false when it is not kept. */
  pin(id: number, pinned: boolean): boolean {
    if (!this.#flows.has(id)) return false;
    if (pinned) this.#pinned.add(id);
    else this.#pinned.delete(id);
    return true;
  }

  /** Forgets all but the pinned ones; returns the ids kept. */
  clear(): number[] {
    for (const id of this.#flows.keys()) if (!this.#pinned.has(id)) this.#flows.delete(id);
    return [...this.#flows.keys()];
  }

  /** How many are kept. */
  get size(): number {
    return this.#flows.size;
  }

  #entry(flow: StoredFlow): ImportedFlow {
    const summary = { ...summaryOfStored(flow), imported: true, pinned: this.#pinned.has(flow.id) };
    return { summary, subject: subjectOfStored(flow) };
  }
}
