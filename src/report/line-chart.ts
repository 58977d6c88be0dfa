/** Line charts: one line per series with a marker per point; a missing value breaks the line. */
import {
  emptyChart,
  frame,
  marker,
  pointLabel,
  type ChartBase,
  type PlotArea,
} from './chart-frame.js';
import { formatValue } from './format.js';
import { el, join, num, text, type Markup } from './markup.js';
import { TONES, tone } from './palette.js';
import { linearScale, logScale } from './scale.js';

export interface Point {
  readonly x: number;
  /** Undefined or non-finite (a diverged loss) leaves a gap. */
  readonly y: number | undefined;
}

export interface LineSeries {
  readonly label: string;
  readonly points: readonly Point[];
  /** Palette index; defaults to the series' position. */
  readonly tone?: number;
}

export interface LineChartSpec extends ChartBase {
  readonly series: readonly LineSeries[];
  /** 'log' for positive values spanning orders of magnitude; values <= 0 are then gaps. */
  readonly yScale?: 'linear' | 'log';
  /** X ticks on whole numbers (rounds). */
  readonly integerX?: boolean;
  /** Show the legend even for one series (default: only for several). */
  readonly legend?: boolean;
  /** Start a linear y axis at zero (magnitudes such as CPU time) rather than near the data. */
  readonly yIncludeZero?: boolean;
}

/** Beyond this many points a series is drawn as a bare line: markers would merge into one. */
const MAX_MARKERS = 60;

/** The points to draw, in x order: dropped values become `undefined` so they split the line. */
function plottable(series: LineSeries, log: boolean): { x: number; y: number | undefined }[] {
  return series.points
    .filter((p) => Number.isFinite(p.x))
    .map((p) => ({
      x: p.x,
      y: p.y !== undefined && Number.isFinite(p.y) && (!log || p.y > 0) ? p.y : undefined,
    }))
    .sort((a, b) => a.x - b.x);
}

export function lineChart(spec: LineChartSpec): Markup {
  const log = spec.yScale === 'log';
  const series = spec.series.map((s, i) => ({
    label: s.label,
    tone: tone(s.tone ?? i),
    shape: i,
    points: plottable(s, log),
  }));
  const drawn = series.flatMap((s) => s.points.filter((p) => p.y !== undefined));
  if (drawn.length === 0) return emptyChart(spec);
  const xs = drawn.map((p) => p.x);
  const ys = drawn.map((p) => p.y as number);
  const x = linearScale(Math.min(...xs), Math.max(...xs), {
    integer: spec.integerX ?? false,
    nice: false,
    count: 6,
  });
  const y = log
    ? logScale(Math.min(...ys), Math.max(...ys))
    : linearScale(Math.min(...ys), Math.max(...ys), { includeZero: spec.yIncludeZero ?? false });
  const unit = spec.yUnit ?? 'number';

  const draw = (area: PlotArea) =>
    join(
      series.map((s) => {
        let path = '';
        let pen = false;
        for (const p of s.points) {
          if (p.y === undefined) {
            pen = false;
            continue;
          }
          path += `${pen ? 'L' : 'M'}${num(area.x(p.x))} ${num(area.y(p.y))}`;
          pen = true;
        }
        const points = s.points.filter((p) => p.y !== undefined) as { x: number; y: number }[];
        const markers =
          points.length > MAX_MARKERS
            ? []
            : points.map((p) =>
                el(
                  'path',
                  { class: 'marker', d: marker(s.shape, area.x(p.x), area.y(p.y), 3.5) },
                  el(
                    'title',
                    {},
                    text(pointLabel(s.label, spec.xLabel, p.x, formatValue(p.y, unit))),
                  ),
                ),
              );
        return el(
          'g',
          { class: `series tone-${s.tone}`, color: TONES[s.tone], 'data-series': s.label },
          el('path', {
            class: 'line',
            d: path,
            fill: 'none',
            stroke: 'currentColor',
            'stroke-width': 2,
            'stroke-linejoin': 'round',
            'stroke-linecap': 'round',
          }),
          el('g', { fill: 'currentColor', stroke: '#fff', 'stroke-width': 1 }, ...markers),
        );
      }),
    );

  return frame(spec, {
    x,
    y,
    legend:
      (spec.legend ?? series.length > 1)
        ? series.map((s) => ({ label: s.label, tone: s.tone, swatch: 'line', shape: s.shape }))
        : [],
    plot: draw,
  });
}
