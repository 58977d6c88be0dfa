/**
 * The parts every chart shares: the <svg> root with its accessible title and description, the
 * visible title, the legend, gridlines, the two axes, and the "not recorded" state. A chart
 * (line-chart.ts, bar-chart.ts) supplies its scales and draws its marks into the plot area.
 *
 * Colours are `currentColor` (text, axes, grid) or a palette tone, so the chart follows the
 * surrounding page's colour scheme inside the report and is black on white as a standalone file.
 */
import { axisLabels, type AxisUnit } from './format.js';
import { d, el, num, text, type Markup } from './markup.js';
import { TONES } from './palette.js';
import type { Scale } from './scale.js';

export interface ChartBase {
  /** `data-chart` attribute and prefix of the element ids: unique in a document, [a-z0-9-]. */
  readonly name: string;
  readonly title: string;
  /** For screen readers: what the chart shows, in a sentence. */
  readonly description: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly yUnit?: AxisUnit;
  /** Shown instead of the plot when there is nothing to draw (default "Not recorded"). */
  readonly emptyMessage?: string;
  readonly width?: number;
  readonly height?: number;
}

export interface LegendItem {
  readonly label: string;
  /** Palette index; flags have none (they are drawn in the text colour). */
  readonly tone?: number;
  readonly swatch: 'line' | 'bar' | 'flag';
  /** Marker shape index, for line swatches. */
  readonly shape?: number;
}

/** The plot area in SVG user units, and the data-to-pixel mappings for it. */
export interface PlotArea {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  x(value: number): number;
  y(value: number): number;
}

export interface FrameInput {
  readonly x: Scale;
  readonly y: Scale;
  readonly legend: readonly LegendItem[];
  readonly plot: (area: PlotArea) => Markup;
}

const WIDTH = 560;
const HEIGHT = 300;
const FONT = 12;
const TICK_FONT = 11;
const TITLE_FONT = 14;
const LEGEND_ROW = 18;
const PAD = 12;

/** Rough advance width of a label: enough to lay out legends and margins without a DOM. */
const textWidth = (label: string, size: number) => label.length * size * 0.6;

/** Element id safe in a document (the name is a package constant, checked anyway). */
function ids(name: string): { title: string; desc: string } {
  if (!/^[a-z0-9-]+$/.test(name)) throw new RangeError(`bad chart name ${JSON.stringify(name)}`);
  return { title: `chart-${name}-title`, desc: `chart-${name}-desc` };
}

function root(chart: ChartBase, extra: Record<string, string>, body: readonly Markup[]): Markup {
  const width = chart.width ?? WIDTH;
  const height = chart.height ?? HEIGHT;
  const id = ids(chart.name);
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-labelledby': `${id.title} ${id.desc}`,
      class: 'chart',
      'data-chart': chart.name,
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'font-size': FONT,
      ...extra,
    },
    el('title', { id: id.title }, text(chart.title)),
    el('desc', { id: id.desc }, text(chart.description)),
    el(
      'text',
      {
        class: 'chart-title',
        x: PAD,
        y: PAD + TITLE_FONT,
        'font-size': TITLE_FONT,
        'font-weight': 600,
        fill: 'currentColor',
      },
      text(chart.title),
    ),
    ...body,
  );
}

/** The chart's title and a centred message: what a chart with no data shows instead of axes. */
export function emptyChart(chart: ChartBase): Markup {
  const width = chart.width ?? WIDTH;
  const height = chart.height ?? HEIGHT;
  return root(chart, { 'data-empty': 'true' }, [
    el(
      'text',
      {
        class: 'chart-empty',
        x: width / 2,
        y: height / 2,
        'text-anchor': 'middle',
        fill: 'currentColor',
        'fill-opacity': 0.6,
      },
      text(chart.emptyMessage ?? 'Not recorded'),
    ),
  ]);
}

/** A mark's tooltip: "Distributed, round 3: 84.20%" (or "3: 84.20%" without an x label). */
export function pointLabel(series: string, xLabel: string, x: number, value: string): string {
  return `${series}, ${xLabel === '' ? '' : `${xLabel} `}${x}: ${value}`;
}

/** Marker shapes, so series differ by more than colour: circle, square, diamond, triangles. */
export function marker(shape: number, cx: number, cy: number, r: number): string {
  switch (shape % 5) {
    case 0:
      return d`M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0Z`;
    case 1:
      return d`M${cx - r} ${cy - r}h${2 * r}v${2 * r}h${-2 * r}Z`;
    case 2:
      return d`M${cx} ${cy - r * 1.3}l${r * 1.3} ${r * 1.3}l${-r * 1.3} ${r * 1.3}l${-r * 1.3} ${-r * 1.3}Z`;
    case 3:
      return d`M${cx} ${cy - r * 1.2}l${r * 1.2} ${r * 2}h${-r * 2.4}Z`;
    default:
      return d`M${cx} ${cy + r * 1.2}l${r * 1.2} ${-r * 2}h${-r * 2.4}Z`;
  }
}

/** An × for flagged categories (an aborted round). */
export const cross = (cx: number, cy: number, r: number) =>
  d`M${cx - r} ${cy - r}L${cx + r} ${cy + r}M${cx - r} ${cy + r}L${cx + r} ${cy - r}`;

function swatch(item: LegendItem, x: number, y: number): Markup {
  const attrs =
    item.tone === undefined ? {} : { class: `tone-${item.tone}`, color: TONES[item.tone] };
  switch (item.swatch) {
    case 'line':
      return el(
        'g',
        attrs,
        el('path', { d: d`M${x} ${y}h18`, stroke: 'currentColor', 'stroke-width': 2 }),
        el('path', {
          class: 'marker',
          d: marker(item.shape ?? 0, x + 9, y, 3.5),
          fill: 'currentColor',
        }),
      );
    case 'bar':
      return el('rect', {
        ...attrs,
        x: x + 3,
        y: y - 6,
        width: 12,
        height: 12,
        rx: 2,
        fill: 'currentColor',
      });
    case 'flag':
      return el('path', {
        ...attrs,
        d: cross(x + 9, y, 4.5),
        stroke: 'currentColor',
        'stroke-width': 2,
      });
  }
}

/** Legend items left to right, wrapping onto further rows; returns the markup and its rows. */
function legend(items: readonly LegendItem[], left: number, top: number, right: number) {
  let x = left;
  let row = 0;
  const parts: Markup[] = [];
  for (const item of items) {
    const width = 24 + textWidth(item.label, FONT) + 16;
    if (x > left && x + width > right) {
      x = left;
      row += 1;
    }
    const y = top + row * LEGEND_ROW;
    parts.push(
      swatch(item, x, y),
      el('text', { x: x + 24, y: y + 4, fill: 'currentColor' }, text(item.label)),
    );
    x += width;
  }
  return { markup: el('g', { class: 'legend' }, ...parts), rows: items.length === 0 ? 0 : row + 1 };
}

export function frame(chart: ChartBase, input: FrameInput): Markup {
  const width = chart.width ?? WIDTH;
  const height = chart.height ?? HEIGHT;
  const yLabels = axisLabels(input.y.ticks, chart.yUnit ?? 'number');
  const xLabels = axisLabels(input.x.ticks, 'number');
  const yLabelWidth = Math.max(...yLabels.map((l) => textWidth(l, TICK_FONT)));
  const left = PAD + FONT + 6 + yLabelWidth + 6;
  const right = width - PAD - 4;
  const key = legend(input.legend, left, PAD + TITLE_FONT + 18, right);
  const top = PAD + TITLE_FONT + 14 + key.rows * LEGEND_ROW + 6;
  const bottom = height - PAD - FONT - 18;
  const area: PlotArea = {
    left,
    top,
    width: right - left,
    height: bottom - top,
    x: (v) => left + input.x.position(v) * (right - left),
    y: (v) => bottom - input.y.position(v) * (bottom - top),
  };
  const grid = input.y.ticks.map((t) => el('path', { d: d`M${left} ${area.y(t)}H${right}` }));
  const yTicks = input.y.ticks.map((t, i) =>
    el('text', { x: left - 6, y: area.y(t) + 4, 'text-anchor': 'end' }, text(yLabels[i] as string)),
  );
  const xTicks = input.x.ticks.map((t, i) =>
    el(
      'g',
      {},
      el('path', {
        d: d`M${area.x(t)} ${bottom}v4`,
        stroke: 'currentColor',
        'stroke-opacity': 0.5,
      }),
      el(
        'text',
        { x: area.x(t), y: bottom + 16, 'text-anchor': 'middle' },
        text(xLabels[i] as string),
      ),
    ),
  );
  return root(chart, {}, [
    key.markup,
    el('g', { class: 'grid', stroke: 'currentColor', 'stroke-opacity': 0.12 }, ...grid),
    el(
      'g',
      { class: 'axis axis-y', fill: 'currentColor', 'fill-opacity': 0.75, 'font-size': TICK_FONT },
      ...yTicks,
      el(
        'text',
        {
          class: 'axis-label',
          transform: `translate(${num(PAD + FONT - 2)} ${num((top + bottom) / 2)}) rotate(-90)`,
          'text-anchor': 'middle',
          'font-size': FONT,
        },
        text(chart.yLabel),
      ),
    ),
    el(
      'g',
      { class: 'axis axis-x', fill: 'currentColor', 'fill-opacity': 0.75, 'font-size': TICK_FONT },
      el('path', {
        d: d`M${left} ${bottom}H${right}`,
        stroke: 'currentColor',
        'stroke-opacity': 0.5,
      }),
      ...xTicks,
      el(
        'text',
        {
          class: 'axis-label',
          x: (left + right) / 2,
          y: height - PAD,
          'text-anchor': 'middle',
          'font-size': FONT,
        },
        text(chart.xLabel),
      ),
    ),
    el('g', { class: 'plot' }, input.plot(area)),
  ]);
}
