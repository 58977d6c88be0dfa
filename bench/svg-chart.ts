/** A grid of small line charts as one self-contained SVG image (no dependencies, no fonts). */

export interface Series {
  readonly title: string;
  readonly xs: readonly number[];
  readonly ys: readonly number[];
}

const W = 300;
const H = 200;
const PAD = 40;
const COLUMNS = 3;

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const label = (v: number) =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

function panel(series: Series, ox: number, oy: number): string {
  const xMin = Math.min(...series.xs);
  const xMax = Math.max(...series.xs);
  const yMax = Math.max(...series.ys) * 1.1 || 1;
  const x = (v: number) => ox + PAD + ((v - xMin) / (xMax - xMin || 1)) * (W - 2 * PAD);
  const y = (v: number) => oy + H - PAD + 10 - (v / yMax) * (H - 2 * PAD);
  const points = series.xs.map(
    (v, i) => `${x(v).toFixed(1)},${y(series.ys[i] as number).toFixed(1)}`,
  );
  return [
    `<text x="${ox + W / 2}" y="${oy + 18}" text-anchor="middle" font-size="12">${escape(series.title)}</text>`,
    `<line x1="${ox + PAD}" y1="${y(0)}" x2="${ox + W - PAD}" y2="${y(0)}" stroke="#888"/>`,
    `<line x1="${ox + PAD}" y1="${y(0)}" x2="${ox + PAD}" y2="${y(yMax)}" stroke="#888"/>`,
    `<text x="${ox + PAD - 4}" y="${y(yMax) + 4}" text-anchor="end" font-size="10">${label(yMax)}</text>`,
    `<text x="${ox + PAD - 4}" y="${y(0) + 4}" text-anchor="end" font-size="10">0</text>`,
    ...series.xs.map(
      (v) =>
        `<text x="${x(v)}" y="${y(0) + 14}" text-anchor="middle" font-size="10">${label(v)}</text>`,
    ),
    `<polyline fill="none" stroke="#2a6fdb" stroke-width="2" points="${points.join(' ')}"/>`,
    ...points.map(
      (p) => `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="#2a6fdb"/>`,
    ),
  ].join('\n');
}

export function lineCharts(title: string, panels: readonly Series[]): string {
  const rows = Math.ceil(panels.length / COLUMNS);
  const width = COLUMNS * W;
  const height = rows * H + 30;
  const body = panels.map((s, i) => panel(s, (i % COLUMNS) * W, 30 + Math.floor(i / COLUMNS) * H));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escape(title)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}
