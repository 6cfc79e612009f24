/** The API's base path. */
export const API = '/api/v1';

/** POSTs (or DELETEs) `body` as JSON; resolves with the parsed answer, or throws the API's error message. */
export async function callApi<T = undefined>(path: string, body?: unknown, method = 'POST'): Promise<T> {
  const res = await fetch(`${API}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  if (!res.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new Error(`${error?.code ?? res.status}: ${error?.message ?? res.statusText}`);
  }
  return parsed as T;
}
