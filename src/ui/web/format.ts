// Small formatting helpers for the page.

/** Bytes in 1024-based units, as mitm's docs write them. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Milliseconds, or seconds past 1 s. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** The CSS class of a status: s2 (2xx), s3, s4, s5, or none. */
export function statusClass(status: number | undefined): string {
  if (status === undefined) return 'snone';
  return `s${Math.floor(status / 100)}`;
}

/** A media type's short name for the list (`json`, `html`, `png`…). */
export function shortType(type: string | undefined, webSocket: boolean): string {
  if (webSocket) return 'ws';
  if (type === undefined) return '';
  const sub = type.split('/')[1] ?? type;
  return sub
    .replace(/^(x-|vnd\.)/, '')
    .replace(/\+json$/, '+json')
    .slice(0, 14);
}
