/**
 * A grid of small line charts as one standalone SVG image, black on white (the benchmark's
 * figure: bench/secagg.ts writes it to bench/results/secagg.svg). Each panel is a `lineChart`.
 */
import { lineChart } from './line-chart.js';
import { el, text, type Markup } from './markup.js';

export interface Panel {
  readonly title: string;
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  readonly xLabel?: string;
  readonly yLabel?: string;
}

const PANEL_WIDTH = 300;
const PANEL_HEIGHT = 220;
const HEADER = 32;

export function lineCharts(title: string, panels: readonly Panel[], columns = 3): Markup {
  const rows = Math.ceil(panels.length / columns);
  const width = columns * PANEL_WIDTH;
  const height = HEADER + rows * PANEL_HEIGHT;
  const charts = panels.map((panel, i) =>
    el(
      'g',
      {
        transform: `translate(${(i % columns) * PANEL_WIDTH} ${HEADER + Math.floor(i / columns) * PANEL_HEIGHT})`,
      },
      lineChart({
        name: `panel-${i + 1}`,
        title: panel.title,
        description: panel.title,
        xLabel: panel.xLabel ?? '',
        yLabel: panel.yLabel ?? '',
        width: PANEL_WIDTH,
        height: PANEL_HEIGHT,
        yIncludeZero: true,
        series: [{ label: panel.title, points: panel.xs.map((x, k) => ({ x, y: panel.ys[k] })) }],
      }),
    ),
  );
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    },
    el('rect', { width: '100%', height: '100%', fill: '#fff' }),
    el(
      'text',
      { x: width / 2, y: 22, 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 600 },
      text(title),
    ),
    ...charts,
  );
}
