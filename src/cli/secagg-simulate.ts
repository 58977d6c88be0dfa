/**
 * `sepal secagg simulate`: one SecAgg/SecAgg+ round in one process on random inputs, checked
 * against the plain weighted mean of the clients whose vectors arrived.
 */
import { parseArgs } from 'node:util';
import { ParameterError } from '../secagg/errors.js';
import { isStage } from '../secagg/stages.js';
import {
  simulateSecAggRound,
  type DropoutStage,
  type RoundSimulationReport,
} from '../sim/secagg-round.js';
import { UsageError } from './usage.js';

const HELP = `Usage: sepal secagg simulate [options]

Simulates one secure-aggregation round: N clients mask random updates of L entries, a fraction
drops out after a chosen stage, the server unmasks the sum; the result is checked against the
plain weighted mean of the survivors.

Options:
  --clients N          sampled clients (default 100)
  --dim L              entries per update (default 100000)
  --share-num K        neighbours per client incl. itself; >= N means SecAgg (default 51)
  --threshold T        shares needed to reconstruct (default floor(K/2)+1)
  --dropout F          fraction of clients that vanish (default 0)
  --dropout-stage S    setup | ask-keys | share-keys | ask-vectors | unmask | mixed (default share-keys)
  --clipping-range C   (default 8)
  --target-range R     quantization levels (default: largest power of two <= 2^22 that fits)
  --max-weight W       weight cap (default 1000)
  --mod-range M        power of two <= 2^32 (default 2^32)
  --min-num N / --min-frac F   minimum survivors (default: the threshold)
  --seed X             reproducible inputs, dropouts, graph and client randomness
  --json               print one JSON object
`;

function numberOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`--${name} must be a number, got ${String(raw)}`);
  }
  return value;
}

function summary(r: RoundSimulationReport): string {
  const verdict = r.aborted
    ? `ABORTED: ${r.reason ?? ''}`
    : r.correct
      ? 'correct: the unmasked sum equals the survivors\u2019 sum exactly'
      : 'WRONG: the result does not match the plain weighted mean';
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const stages = Object.entries(r.serverCpuMsByStage)
    .map(([stage, ms]) => `${stage} ${ms.toFixed(0)}`)
    .join(', ');
  return [
    `SecAgg${r.shareNum < r.clients ? '+' : ''} round: ${r.clients} clients, dim ${r.dim}, shareNum ${r.shareNum}, threshold ${r.threshold}`,
    `  dropped ${r.dropped}, survivors ${r.survivors}`,
    `  ${verdict}`,
    `  max |error| vs float mean  ${r.maxAbsError.toExponential(2)} (quantization step ${r.quantizationStep.toExponential(2)})`,
    `  server CPU                 ${r.serverCpuMs.toFixed(0)} ms (${stages}), replayed alone, warm`,
    `                             ${r.serverCpuMsFirstRound.toFixed(0)} ms replayed alone, its first round after a full collection`,
    `                             ${r.serverCpuMsInSimulation.toFixed(0)} ms amid the simulated clients`,
    `  client CPU                 median ${r.clientCpuMsMedian.toFixed(1)} ms, p95 ${r.clientCpuMsP95.toFixed(1)} ms`,
    `  bytes per client           up ${kb(r.bytesPerClientUp)}, down ${kb(r.bytesPerClientDown)}`,
    `  peak RSS                   ${r.peakRssMb.toFixed(0)} MB`,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        clients: { type: 'string' },
        dim: { type: 'string' },
        'share-num': { type: 'string' },
        threshold: { type: 'string' },
        dropout: { type: 'string' },
        'dropout-stage': { type: 'string' },
        'clipping-range': { type: 'string' },
        'target-range': { type: 'string' },
        'max-weight': { type: 'string' },
        'mod-range': { type: 'string' },
        'min-num': { type: 'string' },
        'min-frac': { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const stage = values['dropout-stage'] ?? 'share-keys';
  if (stage !== 'mixed' && !isStage(stage)) {
    throw new UsageError(`--dropout-stage must be a stage name or mixed, got ${stage}`);
  }
  const dropout = numberOption(values, 'dropout') ?? 0;
  if (dropout < 0 || dropout > 1)
    throw new UsageError(`--dropout must be in [0, 1], got ${dropout}`);
  const options = Object.fromEntries(
    (
      [
        ['shareNum', 'share-num'],
        ['threshold', 'threshold'],
        ['clippingRange', 'clipping-range'],
        ['targetRange', 'target-range'],
        ['maxWeight', 'max-weight'],
        ['modRange', 'mod-range'],
        ['minNum', 'min-num'],
        ['minFrac', 'min-frac'],
      ] as const
    ).flatMap(([key, flag]) => {
      const value = numberOption(values, flag);
      return value === undefined ? [] : [[key, value]];
    }),
  );
  const seed = numberOption(values, 'seed');
  let report: RoundSimulationReport;
  try {
    report = simulateSecAggRound({
      clients: numberOption(values, 'clients') ?? 100,
      dim: numberOption(values, 'dim') ?? 100_000,
      options,
      dropout,
      dropoutStage: stage as DropoutStage,
      ...(seed === undefined ? {} : { seed }),
    });
  } catch (error) {
    if (error instanceof ParameterError) throw new UsageError(error.message);
    throw error;
  }
  if (values.json === true) {
    const { events, ...rest } = report;
    console.log(
      JSON.stringify({
        ...rest,
        events: events.filter((e) => e.kind !== 'dropped' || !e.reason.startsWith('no answer')),
      }),
    );
  } else {
    console.log(summary(report));
  }
  return report.aborted || !report.correct ? 1 : 0;
}
