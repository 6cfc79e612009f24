/** How log text is coloured: ANSI colours on a terminal, nothing otherwise. */
export interface TermStyle {
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;
  readonly green: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly red: (text: string) => string;
  readonly cyan: (text: string) => string;
  readonly magenta: (text: string) => string;
}

const same = (text: string): string => text;

/** No colours: for pipes, files, `NO_COLOR` and json output. */
export const PLAIN: TermStyle = { dim: same, bold: same, green: same, yellow: same, red: same, cyan: same, magenta: same };

const wrap =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`;

/** ANSI SGR colours (applied after `printable`, so only our escapes reach the terminal). */
export const ANSI: TermStyle = {
  dim: wrap(2, 22),
  bold: wrap(1, 22),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  red: wrap(31, 39),
  cyan: wrap(36, 39),
  magenta: wrap(35, 39),
};

/** Colours only when `stream` is a terminal and `NO_COLOR` (no-color.org) is unset or empty. */
export function styleFor(stream: { readonly isTTY?: boolean | undefined }, env: NodeJS.ProcessEnv = process.env): TermStyle {
  const noColor = env.NO_COLOR;
  return stream.isTTY === true && (noColor === undefined || noColor === '') ? ANSI : PLAIN;
}
