// Flow ids in a URL (`GET /api/v1/har?ids=1-40,52`): runs of consecutive ids as ranges, so a
// selection made with shift-click stays short. Shared by the server and the page.

/** At most this many ids in one list. */
export const MAX_IDS = 100_000;

/** `[1, 2, 3, 7]` → `1-3,7` (sorted, duplicates dropped). */
export function formatIdList(ids: Iterable<number>): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const first = sorted[i] as number;
    let last = first;
    while (sorted[i + 1] === last + 1) last = sorted[++i] as number;
    parts.push(first === last ? `${first}` : `${first}-${last}`);
    i++;
  }
  return parts.join(',');
}

/** `1-3,7` → the set of ids; undefined when the text is not such a list or names more than MAX_IDS. */
export function parseIdList(text: string): Set<number> | undefined {
  const ids = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\d{1,15})(?:-(\d{1,15}))?$/.exec(part);
    if (!match) return undefined;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first || last - first >= MAX_IDS - ids.size) return undefined;
    for (let id = first; id <= last; id++) ids.add(id);
  }
  return ids;
}
