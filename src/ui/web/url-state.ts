// The filter lives in the page URL (`?q=`), so a view can be shared and survives a reload.

/** The filter in the page URL, or empty. */
export function filterFromUrl(): string {
  return new URLSearchParams(location.search).get('q') ?? '';
}

/** Puts `filter` into the page URL without adding a history entry. */
export function filterToUrl(filter: string): void {
  const params = new URLSearchParams(location.search);
  if (filter === '') params.delete('q');
  else params.set('q', filter);
  const query = params.toString();
  history.replaceState(null, '', `${location.pathname}${query === '' ? '' : `?${query}`}`);
}
