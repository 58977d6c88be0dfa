/**
 * The per-round table. A column appears only when some round recorded it (no "Centralized"
 * columns for a run without server-side evaluation); a cell the round did not record shows a dash.
 * What a round's figures do not say (who dropped, why it aborted) goes in a note row beneath it,
 * across the table's width, so that the figures stay narrow enough to read side by side.
 */
import type { EvaluationRecord, History, RoundRecord } from '../fl/history.js';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatMetric,
  formatPercent,
  MISSING,
} from './format.js';
import { abortReason, clientList, secAggMs } from './history-series.js';
import { el, text, type Markup } from './markup.js';

/** A table row: a round, or the evaluation of the initial parameters (round 0). */
interface Row {
  readonly label: string;
  readonly record?: RoundRecord;
  readonly distributed?: EvaluationRecord;
  readonly centralized?: EvaluationRecord;
}

interface Column {
  readonly header: string;
  readonly group?: string;
  /** Left-aligned prose rather than a right-aligned figure. */
  readonly prose?: boolean;
  readonly cell: (row: Row) => string | undefined;
}

/** Ids written in a note, and in its tooltip: the table stays readable for large cohorts. */
const IDS_IN_NOTE = 20;
const IDS_IN_TITLE = 200;

const evaluationColumns = (kind: 'distributed' | 'centralized', group: string): Column[] => [
  { header: 'Loss', group, cell: (r) => r[kind] && formatMetric(r[kind].loss) },
  {
    header: 'Accuracy',
    group,
    cell: (r) => (r[kind]?.accuracy === undefined ? undefined : formatPercent(r[kind].accuracy, 2)),
  },
];

/** The note under a round: why it aborted, who dropped; empty when there is nothing to say. */
function note(record: RoundRecord, ids: number): string {
  const reason = abortReason(record);
  return [
    ...(reason === undefined ? [] : [`aborted: ${reason}`]),
    ...(record.dropped.length === 0 ? [] : [`dropped ${clientList(record.dropped, ids)}`]),
  ].join('; ');
}

function columns(history: History): Column[] {
  const rounds = history.rounds;
  const any = (test: (r: RoundRecord) => boolean) => rounds.some(test);
  const secure = 'Secure aggregation';
  return [
    { header: 'Round', prose: true, cell: (r) => r.label },
    { header: 'Sampled', cell: (r) => r.record && formatCount(r.record.sampled) },
    { header: 'Aggregated', cell: (r) => r.record && formatCount(r.record.aggregated) },
    { header: 'Dropped', cell: (r) => r.record && formatCount(r.record.dropped.length) },
    ...(any((r) => r.distributed !== undefined)
      ? evaluationColumns('distributed', 'Distributed evaluation')
      : []),
    ...(any((r) => r.centralized !== undefined) || history.initial !== undefined
      ? evaluationColumns('centralized', 'Centralized evaluation')
      : []),
    ...(any((r) => r.secAgg !== undefined)
      ? [
          {
            header: 'Time after fit',
            group: secure,
            cell: (r: Row) => r.record && formatDuration(secAggMs(r.record)),
          },
          {
            header: 'Up / client',
            group: secure,
            cell: (r: Row) => r.record?.secAgg && formatBytes(r.record.secAgg.bytesUpPerClient),
          },
          {
            header: 'Down / client',
            group: secure,
            cell: (r: Row) => r.record?.secAgg && formatBytes(r.record.secAgg.bytesDownPerClient),
          },
        ]
      : []),
    { header: 'Duration', cell: (r) => r.record && formatDuration(r.record.durationMs) },
  ];
}

const cellClass = (c: Column) => (c.prose ? 'text' : undefined);

/** Header rows: one, or two when some columns are grouped (a group spans its columns). */
function head(cols: readonly Column[]): Markup {
  if (cols.every((c) => c.group === undefined)) {
    return el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...cols.map((c) => el('th', { scope: 'col', class: cellClass(c) }, text(c.header))),
      ),
    );
  }
  const top: Markup[] = [];
  for (let i = 0; i < cols.length;) {
    const group = (cols[i] as Column).group;
    let span = 1;
    while (group !== undefined && cols[i + span]?.group === group) span++;
    const c = cols[i] as Column;
    top.push(
      group === undefined
        ? el('th', { scope: 'col', rowspan: 2, class: cellClass(c) }, text(c.header))
        : el('th', { scope: 'colgroup', colspan: span }, text(group)),
    );
    i += span;
  }
  const bottom = cols
    .filter((c) => c.group !== undefined)
    .map((c) => el('th', { scope: 'col', class: cellClass(c) }, text(c.header)));
  return el('thead', {}, el('tr', { class: 'group' }, ...top), el('tr', {}, ...bottom));
}

function rows(history: History): Row[] {
  const initial: Row[] =
    history.initial === undefined ? [] : [{ label: '0 (initial)', centralized: history.initial }];
  return [
    ...initial,
    ...history.rounds.map((record) => ({
      label: String(record.round),
      record,
      ...(record.distributed && { distributed: record.distributed }),
      ...(record.centralized && { centralized: record.centralized }),
    })),
  ];
}

/** The row under a round that has a note, or undefined. */
function noteRow(record: RoundRecord, columns: number): Markup | undefined {
  const shown = note(record, IDS_IN_NOTE);
  if (shown === '') return undefined;
  const full = note(record, IDS_IN_TITLE);
  return el(
    'tr',
    { class: abortReason(record) === undefined ? 'note' : 'note aborted' },
    el('td', {}),
    el(
      'td',
      { class: 'text', colspan: columns - 1, title: full === shown ? undefined : full },
      text(shown),
    ),
  );
}

function cells(row: Row, cols: readonly Column[]): Markup[] {
  return cols.map((c) => {
    const value = c.cell(row);
    return el(
      'td',
      { class: cellClass(c) },
      value === undefined ? el('span', { class: 'missing' }, text(MISSING)) : text(value),
    );
  });
}

export function roundTable(history: History): Markup {
  const cols = columns(history);
  const body = rows(history).flatMap((row) => {
    const record = row.record;
    if (record === undefined) return [el('tr', { class: 'initial' }, ...cells(row, cols))];
    const under = noteRow(record, cols.length);
    return [
      el('tr', { class: under && 'has-note' }, ...cells(row, cols)),
      ...(under === undefined ? [] : [under]),
    ];
  });
  return el(
    'div',
    { class: 'table-scroll' },
    el('table', { 'data-table': 'rounds' }, head(cols), el('tbody', {}, ...body)),
  );
}
