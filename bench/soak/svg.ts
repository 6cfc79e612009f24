// A small SVG of the soak's series: one panel per series, time on the x axis, the warm-up shaded.
import { escapeXml } from '../lib/xml.js';

/** One series to draw. */
export interface Series {
  readonly name: string;
  readonly unit: string;
  readonly values: readonly number[];
}

const WIDTH = 320;
const HEIGHT = 140;
const PAD = 34;

/** Renders `series` (sampled at `times`, in seconds) side by side, two panels per row. */
export function soakSvg(title: string, times: readonly number[], series: readonly Series[], warmupS: number): string {
  const columns = 2;
  const rows = Math.ceil(series.length / columns);
  const parts: string[] = [];
  series.forEach((s, index) => {
    const x0 = (index % columns) * WIDTH;
    const y0 = 24 + Math.floor(index / columns) * HEIGHT;
    parts.push(panel(s, times, warmupS, x0, y0));
  });
  const total = `${columns * WIDTH}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="${24 + rows * HEIGHT}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="16" font-size="12">${escapeXml(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function panel(s: Series, times: readonly number[], warmupS: number, x0: number, y0: number): string {
  const tMax = Math.max(1, ...times);
  const vMax = Math.max(1, ...s.values) * 1.1;
  const w = WIDTH - PAD - 10;
  const h = HEIGHT - 40;
  const px = (t: number): number => x0 + PAD + (t / tMax) * w;
  const py = (v: number): number => y0 + 16 + h - (v / vMax) * h;
  const points = s.values.map((v, i) => `${px(times[i] ?? 0).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
  return [
    `<rect x="${x0 + PAD}" y="${y0 + 16}" width="${(px(Math.min(warmupS, tMax)) - x0 - PAD).toFixed(1)}" height="${h}" fill="#eee"/>`,
    `<rect x="${x0 + PAD}" y="${y0 + 16}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
    `<text x="${x0 + PAD}" y="${y0 + 12}">${escapeXml(`${s.name} (${s.unit})`)}</text>`,
    `<text x="${x0 + 2}" y="${y0 + 20}">${fmt(vMax)}</text>`,
    `<text x="${x0 + 2}" y="${y0 + 16 + h}">0</text>`,
    `<text x="${x0 + PAD + w - 30}" y="${y0 + 28 + h}">${Math.round(tMax)} s</text>`,
    `<polyline fill="none" stroke="#c33" stroke-width="1.5" points="${points}"/>`,
  ].join('\n');
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}
