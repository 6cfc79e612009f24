// Where a JavaScript hook file's syntax error is. Node's loader rejects `import()` of such a file
// with a bare `SyntaxError: Unexpected token ';'`: the file, line and caret it prints for an
// uncaught one are not on the error object. `node --check FILE` parses the file without running
// it and prints them, so it is asked, only once an import has already failed that way.
import { execFile } from 'node:child_process';

// `node --check` parses and exits; a deadline only guards against a machine too loaded to say.
const CHECK_TIMEOUT_MS = 10_000;

/** The 1-based line and column of the syntax error in `file` (a .mjs/.js/.cjs path), or undefined when Node finds none there. */
export async function syntaxErrorLocation(file: string): Promise<{ line: number; column: number } | undefined> {
  const stderr = await new Promise<string>((resolve) => {
    // NODE_OPTIONS could preload a loader (mitm run sets one): the check must parse the file alone.
    execFile(
      process.execPath,
      ['--check', file],
      { timeout: CHECK_TIMEOUT_MS, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' },
      (_error, _stdout, text) => resolve(text),
    );
  });
  return parseCheckOutput(stderr, file);
}

// `node --check`'s report: `FILE:LINE`, the source line, then a caret line whose indent (tabs kept
// as tabs) marks the column. Undefined when it names another file or shows no caret.
function parseCheckOutput(stderr: string, file: string): { line: number; column: number } | undefined {
  const lines = stderr.split(/\r?\n/);
  const at = lines.findIndex((text) => text.startsWith(`${file}:`) && /:\d+$/.test(text));
  if (at < 0) return undefined;
  const line = Number(/:(\d+)$/.exec(lines[at] ?? '')?.[1]);
  const caret = /^([\t ]*)\^/.exec(lines[at + 2] ?? '');
  if (!Number.isSafeInteger(line) || caret === null) return undefined;
  return { line, column: (caret[1] ?? '').length + 1 };
}
