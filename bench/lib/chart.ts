// The bench's picture: one group of bars per figure that has a ratio against direct, one bar per
// proxy, with a line at 1× (as fast as direct). People compare proxies by looking.
import { escapeXml } from './xml.js';

/** One figure of the table, with each route's ratio against direct, or why there is none. */
export interface ChartRow {
  readonly label: string;
  /** Whether a smaller ratio is the better one (latencies). */
  readonly lowerIsBetter: boolean;
  readonly ratios: ReadonlyMap<string, number | string>;
}

const LABEL = 330;
const BARS = 380;
const BAR = 13;
const GAP = 3;
// Bars are drawn up to this ratio at most (a 25× latency would flatten every other bar); a longer
// one ends in an arrow, with its figure written beside it.
const CAP = 3;
// Labels wrap at this many characters to stay left of the bars.
const WRAP = 50;
const PALETTE = ['#c0392b', '#e67e22', '#7f8c8d', '#2980b9', '#27ae60', '#8e44ad', '#16a085', '#d35400', '#34495e'];

/** Renders the rows as an SVG document; `routes` fixes the colours and the order of the bars. */
export function ratioChart(title: string, routes: readonly string[], chartRows: readonly ChartRow[]): string {
  const colour = (route: string): string => PALETTE[routes.indexOf(route) % PALETTE.length] ?? '#000';
  const max = Math.min(
    CAP,
    Math.max(1.25, ...chartRows.flatMap((row) => [...row.ratios.values()].map((x) => (typeof x === 'number' ? x : 0)))),
  );
  const x = (ratio: number): number => LABEL + (Math.min(ratio, max) / max) * BARS;
  const parts: string[] = [];
  let y = 52;
  for (const row of chartRows) {
    const label = wrap(row.label);
    label.forEach((line, i) => {
      parts.push(`<text x="8" y="${y + 10 + i * 13}" font-weight="bold">${escapeXml(line)}</text>`);
    });
    parts.push(
      `<text x="8" y="${y + 10 + label.length * 13}" fill="#666">${row.lowerIsBetter ? 'lower is better' : 'higher is better'}</text>`,
    );
    const top = y;
    for (const route of routes) {
      if (!row.ratios.has(route)) continue;
      const found = row.ratios.get(route);
      const ratio = typeof found === 'number' ? found : undefined;
      const text = ratio === undefined ? `${route}: ${found}` : `${route} ${ratio.toFixed(2)}×`;
      if (ratio !== undefined) {
        parts.push(`<rect x="${LABEL}" y="${y}" width="${(x(ratio) - LABEL).toFixed(1)}" height="${BAR}" fill="${colour(route)}"/>`);
        if (ratio > max) parts.push(`<text x="${(x(ratio) - 10).toFixed(1)}" y="${y + BAR - 3}" fill="white">▶</text>`);
      }
      const after = ratio === undefined ? LABEL + 4 : x(ratio) + 4;
      parts.push(`<text x="${after.toFixed(1)}" y="${y + BAR - 3}">${escapeXml(text)}</text>`);
      y += BAR + GAP;
    }
    y = Math.max(y, top + 17 + label.length * 13);
    parts.push(
      `<line x1="${x(1).toFixed(1)}" y1="${top - 2}" x2="${x(1).toFixed(1)}" y2="${y - GAP + 2}" stroke="#000" stroke-dasharray="3 2"/>`,
    );
    y += 14;
  }
  const width = LABEL + BARS + 150;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="13">${escapeXml(title)}</text>`,
    `<text x="8" y="36" fill="#666">each bar: the proxy's figure ÷ direct's, in the same run; dashed line: 1× (as fast as direct); ▶: cut at ${max.toFixed(2)}×</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Splits a label into lines of at most WRAP characters, at spaces. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > WRAP) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}
