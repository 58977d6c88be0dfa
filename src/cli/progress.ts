/**
 * Progress of a federated run on a terminal. Driven by plain events (the server loop's events
 * map onto them one to one), so it has no timers and no knowledge of the loop.
 *
 * On a TTY it keeps one status line per round, redrawn in place: a bar that fills as clients
 * finish fit and as secure-aggregation stages complete. Everywhere else (pipes, CI logs) it
 * writes nothing but the round summaries, one plain line each, without escape codes. Either way
 * each finished round leaves one summary line: round, accuracy, loss, dropped, secagg time, time.
 */
import type { RoundRecord } from '../fl/history.js';
import { STAGES, type Stage } from '../secagg/stages.js';
import { secAggMs } from '../report/history-series.js';
import { formatDuration, formatMetric, formatPercent } from '../report/format.js';
import { sanitize, truncate } from './table.js';

export type ProgressEvent =
  | {
      readonly type: 'roundStarted';
      readonly round: number;
      /** Clients asked to fit. */
      readonly sampled: number;
      /** The round runs secure aggregation: its stages count towards the bar. */
      readonly secure?: boolean;
    }
  | {
      readonly type: 'clientFitDone';
      readonly round: number;
      /** The client failed or timed out; it still counts as done for the bar. */
      readonly failed?: boolean;
    }
  | {
      readonly type: 'secAggStage';
      readonly round: number;
      readonly stage: Stage;
      readonly ms: number;
    }
  | { readonly type: 'roundFinished'; readonly record: RoundRecord };

/** The part of a Node stream this needs (process.stderr by default). */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  readonly stream?: ProgressStream;
  /** Rounds in the run, for "round 3/20"; unknown when absent. */
  readonly totalRounds?: number;
  /** Redraw in place; default: the stream is a TTY and TERM is not "dumb". */
  readonly interactive?: boolean;
  /** Milliseconds clock, for the elapsed time and redraw throttling; injectable for tests. */
  readonly now?: () => number;
}

export interface Progress {
  handle(event: ProgressEvent): void;
  /** Clears a status line still on screen (a run that stopped mid-round). */
  end(): void;
}

/** Fit events come by the hundred; the status line is redrawn at most this often for them. */
const REDRAW_MS = 50;
const CLEAR_LINE = '\r\x1b[2K';
const BAR_MIN = 10;
const BAR_MAX = 30;

interface RoundState {
  readonly round: number;
  readonly sampled: number;
  readonly startedAt: number;
  secure: boolean;
  fitDone: number;
  failed: number;
  stagesDone: number;
  lastStage?: Stage;
}

function roundLabel(round: number, total: number | undefined): string {
  if (total === undefined) return `round ${round}`;
  return `round ${String(round).padStart(String(total).length)}/${total}`;
}

/**
 * The one-line summary of a finished round. Values are padded to steady widths so that the lines
 * of a run read as columns in a log; fields a round did not record are left out.
 */
export function roundSummary(record: RoundRecord, totalRounds?: number): string {
  const evaluation = record.centralized ?? record.distributed;
  const secAgg = secAggMs(record);
  const aborted = record.aborted ?? record.secAgg?.aborted;
  const sampled = String(record.sampled);
  return [
    roundLabel(record.round, totalRounds),
    ...(evaluation?.accuracy === undefined
      ? []
      : [`acc ${formatPercent(evaluation.accuracy, 2).padStart(6)}`]),
    ...(evaluation === undefined ? [] : [`loss ${formatMetric(evaluation.loss).padStart(6)}`]),
    `dropped ${String(record.dropped.length).padStart(sampled.length)}/${sampled}`,
    ...(secAgg === undefined ? [] : [`secagg ${formatDuration(secAgg).padStart(7)}`]),
    `time ${formatDuration(record.durationMs).padStart(7)}`,
    ...(aborted === undefined ? [] : [`ABORTED: ${sanitize(aborted)}`]),
  ].join('  ');
}

/** "secagg 1/5 -> ask-keys": stages done, and the stage now running. */
function secAggStatus(s: RoundState): string {
  const next = STAGES[s.lastStage === undefined ? 0 : STAGES.indexOf(s.lastStage) + 1];
  return `secagg ${s.stagesDone}/${STAGES.length}${next === undefined ? '' : ` \u2192 ${next}`}`;
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'\u2588'.repeat(filled)}${'\u2591'.repeat(width - filled)}]`;
}

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const interactive = options.interactive ?? (stream.isTTY === true && process.env.TERM !== 'dumb');
  const now = options.now ?? (() => performance.now());
  let current: RoundState | undefined;
  let shown = false;
  let drawnAt = -Infinity;

  const status = (s: RoundState): string => {
    const units = s.sampled + (s.secure ? STAGES.length : 0);
    const parts = [
      `fit ${s.fitDone}/${s.sampled}${s.failed > 0 ? ` (${s.failed} failed)` : ''}`,
      ...(s.secure ? [secAggStatus(s)] : []),
      formatDuration(now() - s.startedAt),
    ].join('  ');
    const head = roundLabel(s.round, options.totalRounds);
    const columns = stream.columns ?? 80;
    // The line must not wrap: a wrapped line cannot be redrawn with a carriage return.
    const room = columns - 1 - head.length - parts.length - 4;
    const width = Math.max(BAR_MIN, Math.min(BAR_MAX, room));
    return truncate(
      `${head}  ${bar((s.fitDone + s.stagesDone) / units, width)}  ${parts}`,
      columns - 1,
    );
  };

  const draw = (force: boolean) => {
    if (!interactive || current === undefined) return;
    const t = now();
    if (!force && t - drawnAt < REDRAW_MS) return;
    stream.write(CLEAR_LINE + status(current));
    shown = true;
    drawnAt = t;
  };

  const clear = () => {
    if (shown) stream.write(CLEAR_LINE);
    shown = false;
  };

  return {
    handle(event) {
      switch (event.type) {
        case 'roundStarted':
          current = {
            round: event.round,
            sampled: Math.max(1, event.sampled),
            startedAt: now(),
            secure: event.secure ?? false,
            fitDone: 0,
            failed: 0,
            stagesDone: 0,
          };
          draw(true);
          return;
        case 'clientFitDone':
          if (current?.round !== event.round) return; // late news from an earlier round
          current.fitDone += 1;
          if (event.failed) current.failed += 1;
          draw(false);
          return;
        case 'secAggStage':
          if (current?.round !== event.round) return;
          current.secure = true;
          current.stagesDone += 1;
          current.lastStage = event.stage;
          draw(true);
          return;
        case 'roundFinished':
          clear();
          stream.write(`${roundSummary(event.record, options.totalRounds)}\n`);
          if (current?.round === event.record.round) current = undefined;
          return;
      }
    },
    end: clear,
  };
}
