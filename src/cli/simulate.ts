/**
 * `sepal simulate [config]`: runs a federated job in one process (see src/sim/federation.ts),
 * draws a progress bar per round on stderr, prints a final table, and writes the HTML report.
 * With --json the last line of stdout is the run's History as one JSON object.
 */
import { parseArgs } from 'node:util';
import type { ServerEvent } from '../fl/events.js';
import type { History, RoundRecord } from '../fl/history.js';
import { ParameterError } from '../secagg/errors.js';
import { secAggMs } from '../report/history-series.js';
import { writeReport } from '../report/write.js';
import { DEFAULT_CONFIG, resolveConfig, type JobConfig } from '../sim/config.js';
import { ConfigFileError, loadConfig } from '../sim/config-file.js';
import { simulate, type SimulationResult } from '../sim/federation.js';
import { createProgress, type ProgressEvent } from './progress.js';
import { renderTable } from './table.js';
import { UsageError } from './usage.js';

const HELP = `Usage: sepal simulate [config.json|config.ts] [options]

Runs a federated job in one process: virtual clients over partitions of Fashion-MNIST train on
worker threads, the server aggregates (securely, unless the config says otherwise), and the run
writes an HTML report. Without a config file it runs the default job: the bundled Fashion-MNIST
subset, 100 clients, 10 per round, FedAvg with SecAgg+, until 80% test accuracy.

Options (each overrides the config):
  --rounds N        the most rounds to run
  --seed N          seed of partitions, sampling, dropouts and client randomness
  --model NAME      mlp | cnn
  --data-dir DIR    a directory with the four Fashion-MNIST IDX files (full data set)
  --no-secagg       plain aggregation (to measure what secure aggregation costs)
  --workers N       training threads (default: one per core)
  --report FILE     where to write the HTML report (default: reports/<job name>.html)
  --no-report       write no report
  --json            the last line of output is the run's History as one JSON object
`;

/** A round of History with the figures most readers want first, flattened to the top. */
function flatRound(record: RoundRecord) {
  const evaluation = record.centralized ?? record.distributed;
  return {
    loss: evaluation?.loss ?? null,
    accuracy: evaluation?.accuracy ?? null,
    droppedClients: record.dropped,
    secAggStageMs: record.secAgg?.stageMs ?? null,
    bytesUpPerClient: record.secAgg?.bytesUpPerClient ?? null,
    bytesDownPerClient: record.secAgg?.bytesDownPerClient ?? null,
    ...record,
  };
}

export function historyJson(history: History): string {
  return JSON.stringify({ ...history, rounds: history.rounds.map(flatRound) });
}

function toProgress(event: ServerEvent): ProgressEvent | undefined {
  switch (event.type) {
    case 'round-started':
      return {
        type: 'roundStarted',
        round: event.round,
        sampled: event.sampled,
        secure: event.secure,
      };
    case 'fit-finished':
      return { type: 'clientFitDone', round: event.round, failed: event.error !== undefined };
    case 'secagg-stage':
      return { type: 'secAggStage', round: event.round, stage: event.stage, ms: event.ms };
    case 'round-finished':
      return { type: 'roundFinished', record: event.record };
    default:
      return undefined;
  }
}

const percent = (value: number | undefined) =>
  value === undefined ? '-' : `${(100 * value).toFixed(2)}%`;
const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)}`);

function finalTable(history: History): string {
  return renderTable(
    [
      { header: 'round', align: 'right' },
      { header: 'accuracy', align: 'right' },
      { header: 'loss', align: 'right' },
      { header: 'clients', align: 'right' },
      { header: 'dropped', align: 'right' },
      { header: 'secagg s', align: 'right' },
      { header: 'up KiB', align: 'right' },
      { header: 'round s', align: 'right' },
    ],
    history.rounds.map((r) => {
      const evaluation = r.centralized ?? r.distributed;
      return [
        String(r.round),
        percent(evaluation?.accuracy),
        evaluation === undefined ? '-' : evaluation.loss.toFixed(4),
        `${r.aggregated}/${r.sampled}`,
        String(r.dropped.length),
        seconds(secAggMs(r)),
        r.secAgg === undefined ? '-' : (r.secAgg.bytesUpPerClient / 1024).toFixed(1),
        seconds(r.durationMs),
      ];
    }),
  );
}

function verdict(config: JobConfig, result: SimulationResult, wallMs: number): string {
  const last = result.history.rounds.at(-1);
  const accuracy = last?.centralized?.accuracy;
  const rounds = result.history.rounds.length;
  const target = config.targetAccuracy;
  const reached =
    target === undefined
      ? ''
      : accuracy !== undefined && accuracy >= target
        ? `reached ${percent(target)} test accuracy `
        : `did NOT reach ${percent(target)} test accuracy `;
  const aggregation =
    config.secureAggregation === false ? 'plain aggregation' : 'secure aggregation (SecAgg+)';
  return (
    `${reached}after ${rounds} round${rounds === 1 ? '' : 's'} in ${seconds(wallMs)} s: ` +
    `${config.strategy.name} with ${aggregation}, ${config.clients} clients, ` +
    `${result.trainExamples} training examples from ${result.dataSource}`
  );
}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--${name} must be a whole number, got ${value}`);
  return n;
}

async function configFrom(
  file: string | undefined,
  values: Record<string, string | boolean | undefined>,
): Promise<JobConfig> {
  const base = file === undefined ? DEFAULT_CONFIG : await loadConfig(file);
  const rounds = intOption(values['rounds'] as string | undefined, 'rounds');
  const seed = intOption(values['seed'] as string | undefined, 'seed');
  const workers = intOption(values['workers'] as string | undefined, 'workers');
  const dataDir = values['data-dir'] as string | undefined;
  // Overrides go through the same validation as a config file.
  return resolveConfig({
    ...base,
    ...(rounds !== undefined && { rounds }),
    ...(seed !== undefined && { seed }),
    ...(workers !== undefined && { workers }),
    ...(values['model'] !== undefined && { model: values['model'] }),
    ...(dataDir !== undefined && { data: { dataDir, subset: false } }),
    ...(values['no-secagg'] === true && { secureAggregation: false }),
  });
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rounds: { type: 'string' },
      seed: { type: 'string' },
      model: { type: 'string' },
      'data-dir': { type: 'string' },
      'no-secagg': { type: 'boolean' },
      workers: { type: 'string' },
      report: { type: 'string' },
      'no-report': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length > 1)
    throw new UsageError(`expected at most one config file, got ${positionals.join(' ')}`);
  let config: JobConfig;
  try {
    config = await configFrom(positionals[0], values);
  } catch (error) {
    if (error instanceof ConfigFileError || error instanceof ParameterError) {
      throw new UsageError(error.message);
    }
    throw error;
  }

  const progress = createProgress({ totalRounds: config.rounds });
  const startedAt = new Date();
  const started = performance.now();
  let result: SimulationResult;
  try {
    result = await simulate({
      config,
      onEvent: (event) => {
        const mapped = toProgress(event);
        if (mapped !== undefined) progress.handle(mapped);
      },
    });
  } finally {
    progress.end();
  }
  const wallMs = performance.now() - started;

  const lines = ['', finalTable(result.history), '', verdict(config, result, wallMs)];
  if (values['no-report'] !== true) {
    const path = values.report ?? `reports/${config.name}.html`;
    await writeReport(path, {
      title: `Sepal run: ${config.name}`,
      history: result.history,
      config,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      notes: [verdict(config, result, wallMs)],
    });
    lines.push(`report: ${path}`);
  }
  console.log(lines.join('\n'));
  if (values.json === true) console.log(historyJson(result.history));
  return 0;
}
