/** The report's charts, each drawn from a History. */
import type { History, RoundRecord } from '../fl/history.js';
import { STAGES } from '../secagg/stages.js';
import { barChart } from './bar-chart.js';
import { formatPercent } from './format.js';
import {
  abortReason,
  clientList,
  evaluationPoints,
  EVALUATION_LABELS,
  type EvaluationField,
} from './history-series.js';
import { lineChart, type LineSeries } from './line-chart.js';
import type { Markup } from './markup.js';

export interface ReportChart {
  /** The chart's `data-chart` name. */
  readonly name: string;
  readonly markup: Markup;
}

const NO_ROUNDS = 'Not recorded: the run has no rounds';
const NO_SECAGG = 'Not recorded: no round used secure aggregation';
/** Client ids in a bar's tooltip: enough to recognise a pattern, bounded for big cohorts. */
const IDS_IN_TOOLTIP = 12;

function roundsText(records: readonly RoundRecord[]): string {
  const rounds = records.map((r) => r.round);
  return rounds.length === 0
    ? 'no rounds'
    : `rounds ${Math.min(...rounds)} to ${Math.max(...rounds)}`;
}

function evaluationChart(history: History, field: EvaluationField): ReportChart {
  const series: LineSeries[] = (['distributed', 'centralized'] as const)
    .map((kind) => ({
      label: EVALUATION_LABELS[kind],
      tone: kind === 'distributed' ? 0 : 1,
      points: evaluationPoints(history, kind, field),
    }))
    .filter((s) => s.points.length > 0);
  const accuracy = field === 'accuracy';
  const name = accuracy ? 'accuracy' : 'loss';
  return {
    name,
    markup: lineChart({
      name,
      title: accuracy ? 'Accuracy' : 'Loss',
      description: `${accuracy ? 'Accuracy' : 'Loss'} per round, ${roundsText(history.rounds)}: ${
        series.length === 0
          ? 'not recorded'
          : series.map((s) => s.label.toLowerCase()).join(' and ')
      } evaluation${series.length > 1 ? 's' : ''}.`,
      xLabel: 'round',
      yLabel: accuracy ? 'accuracy' : 'loss',
      yUnit: accuracy ? 'percent' : 'number',
      integerX: true,
      legend: true,
      series,
      emptyMessage:
        history.rounds.length === 0
          ? NO_ROUNDS
          : `Not recorded: no evaluation reported ${accuracy ? 'an accuracy' : 'a loss'}`,
    }),
  };
}

/** Rounds whose outcome needs a flag, with the reason as the flag's detail. */
function abortedFlags(rounds: readonly RoundRecord[]) {
  return {
    label: 'aborted round',
    at: rounds.flatMap((r) => {
      const reason = abortReason(r);
      return reason === undefined ? [] : [{ x: r.round, detail: reason }];
    }),
  };
}

function secAggTimeChart(history: History): ReportChart {
  const rounds = history.rounds.filter((r) => r.secAgg !== undefined);
  return {
    name: 'secagg-time',
    markup: barChart({
      name: 'secagg-time',
      title: 'Secure aggregation time per stage',
      description: `Wall-clock time of each secure-aggregation stage (${STAGES.join(', ')}), stacked per round, ${roundsText(rounds)}.`,
      xLabel: 'round',
      yLabel: 'time',
      yUnit: 'ms',
      categories: rounds.map((r) => r.round),
      series: STAGES.map((stage) => ({
        label: stage,
        values: rounds.map((r) => r.secAgg?.stageMs[stage]),
      })),
      flags: abortedFlags(rounds),
      emptyMessage: history.rounds.length === 0 ? NO_ROUNDS : NO_SECAGG,
    }),
  };
}

function bytesChart(history: History): ReportChart {
  const rounds = history.rounds.filter((r) => r.secAgg !== undefined);
  const series = (
    label: string,
    tone: number,
    pick: 'bytesUpPerClient' | 'bytesDownPerClient',
  ) => ({
    label,
    tone,
    points: rounds.map((r) => ({ x: r.round, y: r.secAgg?.[pick] })),
  });
  return {
    name: 'bytes',
    markup: lineChart({
      name: 'bytes',
      title: 'Bytes per client',
      description: `Encoded secure-aggregation bytes per client (median over clients) sent up to and down from the server, per round, ${roundsText(rounds)}, on a logarithmic axis.`,
      xLabel: 'round',
      yLabel: 'bytes per client (log)',
      yUnit: 'bytes',
      yScale: 'log',
      integerX: true,
      legend: true,
      series: [
        series('Up (to server)', 2, 'bytesUpPerClient'),
        series('Down (to client)', 4, 'bytesDownPerClient'),
      ],
      emptyMessage: history.rounds.length === 0 ? NO_ROUNDS : NO_SECAGG,
    }),
  };
}

function dropoutChart(history: History): ReportChart {
  const rounds = history.rounds;
  const total = rounds.reduce((sum, r) => sum + r.dropped.length, 0);
  return {
    name: 'dropouts',
    markup: barChart({
      name: 'dropouts',
      title: 'Dropped clients',
      description: `Clients that failed, timed out or vanished, per round, ${roundsText(history.rounds)}: ${total} in all.`,
      xLabel: 'round',
      yLabel: 'clients',
      integerY: true,
      categories: rounds.map((r) => r.round),
      series: [{ label: 'dropped', tone: 3, values: rounds.map((r) => r.dropped.length) }],
      notes: rounds.map((r) =>
        r.dropped.length === 0
          ? undefined
          : `${clientList(r.dropped, IDS_IN_TOOLTIP)} (${formatPercent(r.dropped.length / Math.max(1, r.sampled), 0)} of sampled)`,
      ),
      flags: abortedFlags(rounds),
      emptyMessage: NO_ROUNDS,
    }),
  };
}

function durationChart(history: History): ReportChart {
  const rounds = history.rounds;
  return {
    name: 'duration',
    markup: barChart({
      name: 'duration',
      title: 'Round duration',
      description: `Wall-clock duration of each round, ${roundsText(history.rounds)}.`,
      xLabel: 'round',
      yLabel: 'time',
      yUnit: 'ms',
      categories: rounds.map((r) => r.round),
      series: [{ label: 'duration', tone: 5, values: rounds.map((r) => r.durationMs) }],
      flags: abortedFlags(rounds),
      emptyMessage: NO_ROUNDS,
    }),
  };
}

export function historyCharts(history: History): ReportChart[] {
  return [
    evaluationChart(history, 'accuracy'),
    evaluationChart(history, 'loss'),
    secAggTimeChart(history),
    bytesChart(history),
    dropoutChart(history),
    durationChart(history),
  ];
}
