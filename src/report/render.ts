/**
 * `renderReport`: a federated run's History as one self-contained HTML document. No scripts,
 * fonts, images or network: the charts are inline SVG drawn here, the stylesheet is inline, and
 * a Content-Security-Policy forbids loading anything, so the file can be mailed, archived or
 * opened offline and shows the same thing. Isomorphic: no Node imports (write.ts writes files).
 */
import type { History } from '../fl/history.js';
import { formatCount, formatDuration, formatMetric, formatPercent } from './format.js';
import { historyCharts } from './history-charts.js';
import { EVALUATION_LABELS, type EvaluationField, type EvaluationKind } from './history-series.js';
import { el, join, text, trusted, type Markup } from './markup.js';
import { roundTable } from './round-table.js';
import { STYLESHEET } from './style.js';
import { summarize, type AtRound, type RunSummary } from './summary.js';

export interface ReportInput {
  readonly title: string;
  readonly history: History;
  /** The run's configuration, shown as JSON. */
  readonly config?: unknown;
  /** ISO 8601 timestamps, shown as given. */
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly notes?: readonly string[];
}

/** Nothing may be fetched: a report that tried would be neither private nor reproducible. */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const NOT_RECORDED = 'not recorded';

interface Tile {
  readonly label: string;
  readonly value: string;
  /** Lines of context under the value. */
  readonly detail?: readonly string[];
}

const tile = ({ label, value, detail }: Tile) =>
  el(
    'div',
    { class: 'tile' },
    el('dt', {}, text(label)),
    el('dd', {}, text(value), ...(detail ?? []).map((line) => el('small', {}, text(line)))),
  );

/** Centralized (the global model, evaluated by the server) first, distributed otherwise. */
function headline(
  summary: RunSummary,
  field: EvaluationField,
  which: 'final' | 'best',
): { at: AtRound; kind: EvaluationKind } | undefined {
  for (const kind of ['centralized', 'distributed'] as const) {
    const at = summary.evaluation[kind][field][which];
    if (at !== undefined) return { at, kind };
  }
  return undefined;
}

function evaluationTile(
  summary: RunSummary,
  field: EvaluationField,
  which: 'final' | 'best',
): Tile {
  const label = `${which === 'final' ? 'Final' : 'Best'} ${field}`;
  const found = headline(summary, field, which);
  if (found === undefined) return { label, value: NOT_RECORDED };
  const format = (v: number) => (field === 'accuracy' ? formatPercent(v, 2) : formatMetric(v));
  const other =
    found.kind === 'centralized' ? summary.evaluation.distributed[field][which] : undefined;
  return {
    label,
    value: format(found.at.value),
    detail: [
      `${EVALUATION_LABELS[found.kind].toLowerCase()}, round ${found.at.round}`,
      ...(other === undefined
        ? []
        : [
            `distributed ${format(other.value)}${other.round === found.at.round ? '' : ` (round ${other.round})`}`,
          ]),
    ],
  };
}

/** Wall-clock time between two parseable timestamps, else undefined. */
function wallClockMs(startedAt?: string, finishedAt?: string): number | undefined {
  const ms = Date.parse(finishedAt ?? '') - Date.parse(startedAt ?? '');
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function tiles(input: ReportInput, summary: RunSummary): Tile[] {
  const wall = wallClockMs(input.startedAt, input.finishedAt);
  const range = (lo: number, hi: number) =>
    lo === hi ? formatCount(lo) : `${formatCount(lo)}\u2013${formatCount(hi)}`;
  return [
    evaluationTile(summary, 'accuracy', 'final'),
    evaluationTile(summary, 'accuracy', 'best'),
    evaluationTile(summary, 'loss', 'final'),
    {
      label: 'Rounds',
      value: formatCount(summary.rounds),
      ...(summary.firstRound !== undefined &&
        summary.lastRound !== undefined && {
          detail: [
            summary.firstRound === summary.lastRound
              ? `round ${summary.firstRound}`
              : `rounds ${range(summary.firstRound, summary.lastRound)}`,
            ...(summary.abortedRounds > 0 ? [`${summary.abortedRounds} aborted`] : []),
          ],
        }),
    },
    summary.sampled === undefined
      ? { label: 'Clients per round', value: NOT_RECORDED }
      : {
          label: 'Clients per round',
          value: range(summary.sampled.min, summary.sampled.max),
          detail: [`${formatCount(summary.aggregatedTotal)} updates aggregated in all`],
        },
    {
      label: 'Dropped clients',
      value: formatCount(summary.droppedTotal),
      detail: [
        `${formatCount(summary.droppedClients)} distinct client${summary.droppedClients === 1 ? '' : 's'}`,
      ],
    },
    {
      label: 'Total time',
      value: formatDuration(summary.totalMs),
      detail: [
        'sum of round durations',
        ...(wall === undefined ? [] : [`wall clock ${formatDuration(wall)}`]),
      ],
    },
    summary.secAggRounds === 0
      ? { label: 'Secure aggregation', value: NOT_RECORDED }
      : {
          label: 'Secure aggregation',
          value: formatDuration(summary.secAggMs),
          detail: [`added after training, in ${summary.secAggRounds} of ${summary.rounds} rounds`],
        },
  ];
}

/** The config as indented JSON; bigints as decimal strings; a cycle is reported, not thrown. */
function configJson(config: unknown): string {
  if (config === undefined) return NOT_RECORDED;
  try {
    return (
      JSON.stringify(
        config,
        (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
        2,
      ) ?? NOT_RECORDED
    );
  } catch (error) {
    return `(the configuration cannot be shown as JSON: ${error instanceof Error ? error.message : String(error)})`;
  }
}

function header(input: ReportInput, summary: RunSummary): Markup {
  const meta = [
    ...(input.startedAt === undefined ? [] : [`started ${input.startedAt}`]),
    ...(input.finishedAt === undefined ? [] : [`finished ${input.finishedAt}`]),
    `${formatCount(summary.rounds)} round${summary.rounds === 1 ? '' : 's'}`,
  ];
  const notes = input.notes ?? [];
  return el(
    'header',
    {},
    el('p', { class: 'eyebrow' }, text('Sepal \u00b7 federated run report')),
    el('h1', {}, text(input.title)),
    el('p', { class: 'meta' }, ...meta.map((m) => el('span', {}, text(m)))),
    notes.length === 0
      ? join([])
      : el('ul', { class: 'notes' }, ...notes.map((n) => el('li', {}, text(n)))),
  );
}

const section = (id: string, title: string, ...body: Markup[]) =>
  el('section', { 'aria-labelledby': id }, el('h2', { id }, text(title)), ...body);

export function renderReport(input: ReportInput): string {
  const summary = summarize(input.history);
  const charts = historyCharts(input.history).map((chart) =>
    el('figure', { class: 'chart-card', 'data-figure': chart.name }, chart.markup),
  );
  const body = el(
    'main',
    {},
    header(input, summary),
    section(
      'summary',
      'Summary',
      el('dl', { class: 'tiles', 'data-table': 'summary' }, ...tiles(input, summary).map(tile)),
    ),
    section('charts', 'Charts', el('div', { class: 'charts' }, ...charts)),
    section('rounds', 'Rounds', roundTable(input.history)),
    section(
      'config',
      'Configuration',
      el('pre', { class: 'config' }, el('code', {}, text(configJson(input.config)))),
    ),
    el(
      'footer',
      {},
      text('Generated by Sepal. This file is self-contained: no scripts, no external resources.'),
    ),
  );
  return `<!doctype html>\n${el(
    'html',
    { lang: 'en' },
    el(
      'head',
      {},
      el('meta', { charset: 'utf-8' }),
      el('meta', { 'http-equiv': 'Content-Security-Policy', content: CSP }),
      el('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
      el('meta', { name: 'color-scheme', content: 'light dark' }),
      el('meta', { name: 'generator', content: 'Sepal' }),
      el('title', {}, text(input.title)),
      el('style', {}, trusted(STYLESHEET)),
    ),
    el('body', {}, body),
  )}\n`;
}
