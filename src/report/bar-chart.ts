/**
 * Bar charts over numbered categories (rounds): one bar per category, the series stacked
 * bottom-up in the order given. Values must be non-negative; undefined, non-finite or negative
 * values draw nothing. Flags mark categories that need a word (an aborted round) with an ×
 * in the text colour, apart from every series tone.
 */
import {
  cross,
  emptyChart,
  frame,
  pointLabel,
  type ChartBase,
  type LegendItem,
  type PlotArea,
} from './chart-frame.js';
import { formatValue } from './format.js';
import { el, join, text, type Markup } from './markup.js';
import { TONES, tone } from './palette.js';
import { linearScale } from './scale.js';

export interface BarSeries {
  readonly label: string;
  /** One value per category. */
  readonly values: readonly (number | undefined)[];
  readonly tone?: number;
}

export interface BarChartSpec extends ChartBase {
  /** Category positions on the x axis (round numbers), one per value index. */
  readonly categories: readonly number[];
  readonly series: readonly BarSeries[];
  /** Per category, appended to the tooltip of its bars (the ids of the dropped clients). */
  readonly notes?: readonly (string | undefined)[];
  readonly flags?: {
    readonly label: string;
    readonly at: readonly { readonly x: number; readonly detail: string }[];
  };
  /** Y ticks on whole numbers (counts). */
  readonly integerY?: boolean;
}

const MAX_BAR_WIDTH = 36;

const usable = (v: number | undefined): v is number =>
  v !== undefined && Number.isFinite(v) && v >= 0;

export function barChart(spec: BarChartSpec): Markup {
  const categories = spec.categories.map((x, i) => ({ x, i })).filter((c) => Number.isFinite(c.x));
  const recorded = categories.some((c) => spec.series.some((s) => usable(s.values[c.i])));
  const flags = spec.flags?.at.filter((f) => Number.isFinite(f.x)) ?? [];
  if (!recorded && flags.length === 0) return emptyChart(spec);

  // Each category's segments, bottom-up: [from, to) per series, or undefined where nothing draws.
  const stacks = categories.map((c) => {
    let top = 0;
    const segments = spec.series.map((s) => {
      const value = s.values[c.i];
      if (!usable(value) || value === 0) return undefined;
      top += value;
      return { from: top - value, to: top, value };
    });
    return { ...c, segments, total: top };
  });
  const totals = new Map(stacks.map((c) => [c.x, c.total]));
  const positions = [...categories.map((c) => c.x), ...flags.map((f) => f.x)];
  const lo = Math.min(...positions);
  const hi = Math.max(...positions);
  const x = linearScale(lo - 0.5, hi + 0.5, { integer: true, nice: false, count: 8 });
  const y = linearScale(0, Math.max(0, ...totals.values()), {
    includeZero: true,
    integer: spec.integerY ?? false,
  });
  const unit = spec.yUnit ?? 'number';
  const tones = spec.series.map((s, i) => tone(s.tone ?? i));

  const draw = (area: PlotArea) => {
    const band = area.width / (x.domain[1] - x.domain[0]);
    const width = Math.max(1, Math.min(band * 0.7, MAX_BAR_WIDTH));
    const layers = spec.series.map((s, k) => {
      const bars = stacks.flatMap((c) => {
        const segment = c.segments[k];
        if (segment === undefined) return [];
        const top = area.y(segment.to);
        const note = spec.notes?.[c.i];
        const tip = pointLabel(s.label, spec.xLabel, c.x, formatValue(segment.value, unit));
        return [
          el(
            'rect',
            {
              class: 'bar',
              x: area.x(c.x) - width / 2,
              y: top,
              width,
              height: area.y(segment.from) - top,
            },
            el('title', {}, text(note ? `${tip}\n${note}` : tip)),
          ),
        ];
      });
      const t = tones[k] as number;
      return el(
        'g',
        {
          class: `series tone-${t}`,
          color: TONES[t],
          fill: 'currentColor',
          'data-series': s.label,
        },
        ...bars,
      );
    });
    const marks = flags.map((f) => {
      const cy = Math.max(area.top + 6, area.y(totals.get(f.x) ?? 0) - 10);
      return el(
        'path',
        { class: 'flag', d: cross(area.x(f.x), cy, 4.5) },
        el('title', {}, text(pointLabel(spec.flags?.label ?? '', spec.xLabel, f.x, f.detail))),
      );
    });
    return join([
      ...layers,
      el(
        'g',
        {
          class: 'flags',
          stroke: 'currentColor',
          'stroke-width': 2,
        },
        ...marks,
      ),
    ]);
  };

  const legend: LegendItem[] = [];
  if (spec.series.length > 1) {
    spec.series.forEach((s, k) =>
      legend.push({ label: s.label, tone: tones[k] as number, swatch: 'bar' }),
    );
  }
  if (spec.flags !== undefined && flags.length > 0) {
    legend.push({ label: spec.flags.label, swatch: 'flag' });
  }
  return frame(spec, { x, y, legend, plot: draw });
}
