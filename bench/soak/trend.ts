// Whether a series of samples "keeps growing" after warm-up: the samples after warm-up are split
// into thirds, and a series grows when each third's median exceeds the previous one's by more than
// a tolerance (relative for memory, absolute for counts). A plateau, a sawtooth from GC, or a one-off
// step passes; steady growth across the whole run fails.

/** The verdict on one series. */
export interface Trend {
  readonly name: string;
  readonly medians: readonly [number, number, number];
  readonly growing: boolean;
}

/** Median of `values` (0 for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Judges `values` (after warm-up) with a tolerance of `relative` of the first median plus `absolute`. */
export function trendOf(name: string, values: readonly number[], tolerance: { relative: number; absolute: number }): Trend {
  const third = Math.max(1, Math.floor(values.length / 3));
  const parts = [values.slice(0, third), values.slice(third, 2 * third), values.slice(2 * third)].map(median) as [number, number, number];
  const slack = parts[0] * tolerance.relative + tolerance.absolute;
  const growing = values.length >= 6 && parts[1] > parts[0] + slack / 2 && parts[2] > parts[1] + slack / 2 && parts[2] > parts[0] + slack;
  return { name, medians: parts, growing };
}
