import { MitmError } from '../errors.js';

/** What server replay compares between a request and a recording (`--replay-match`). */
export interface ReplayMatch {
  readonly method: boolean;
  /** Scheme, host, port, path and query (parameters in any order). */
  readonly url: boolean;
  /** The decoded body; form and JSON bodies compared by their parameters and fields. */
  readonly body: boolean;
  /** `all`: every request header but hop-by-hop, framing and ignored ones; else these names (lower-case). */
  readonly headers: 'all' | readonly string[];
}

/** The default of `--replay-match`. */
export const DEFAULT_REPLAY_MATCH = 'method,url,body';

/** Parses `--replay-match`: a comma list of `method`, `url`, `body`, `headers` and `header:NAME`. */
export function parseReplayMatch(text: string): ReplayMatch {
  const parts = text.split(',').map((part) => part.trim());
  const named: string[] = [];
  let all = false;
  for (const part of parts) {
    const header = /^header:([!#$%&'*+.^_`|~0-9a-z-]+)$/i.exec(part);
    if (header) named.push((header[1] ?? '').toLowerCase());
    else if (part === 'headers') all = true;
    else if (!['method', 'url', 'body'].includes(part))
      throw new MitmError(
        'config_invalid',
        `${JSON.stringify(text)}: ${part === '' ? 'an empty part' : JSON.stringify(part)} is not one of method, url, body, headers, header:NAME`,
      );
  }
  return { method: parts.includes('method'), url: parts.includes('url'), body: parts.includes('body'), headers: all ? 'all' : named };
}
