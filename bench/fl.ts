/**
 * The federated-learning targets of the framework issue, measured: each run is `sepal simulate`
 * in its own process (a config file per run, History from --json), and the results go to
 * bench/results/fl.json and fl.md. Runs are named; pass names to run a subset:
 *
 *   npm run bench:fl -- default default-plain mlp-full
 *
 * The full-data runs need Debian's dataset-fashion-mnist (or FASHION_MNIST_DIR).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { History } from '../src/fl/history.js';
import type { JobConfigInput } from '../src/sim/config.js';

const FULL = process.env['FASHION_MNIST_DIR'] ?? '/usr/share/datasets/fashion-mnist';
const OUT = process.env['BENCH_OUT'] ?? 'bench/results';

/** The full data set, 100 IID clients, 10 a round, at most 30 rounds: the issue's setting. */
const full = (model: 'mlp' | 'cnn'): JobConfigInput => ({
  data: { dataDir: FULL },
  model,
  clients: 100,
  rounds: 30,
  // The MLP trains with the FedAvg paper's E = 5, B = 10. The CNN takes B = 20 (its per-step
  // cost on wasm is mostly per-kernel overhead, so larger batches are cheaper per example) with
  // twice the learning rate, the same step per example; at E = 2, learning rate 0.05 it crept to
  // 85.3% in 30 rounds, still improving, so E = 5 and 0.1 give each round more progress.
  fit:
    model === 'mlp'
      ? { fraction: 0.1, epochs: 5, batchSize: 10, learningRate: 0.05 }
      : { fraction: 0.1, epochs: 5, batchSize: 20, learningRate: 0.1 },
  seed: 7,
});

const dirichlet = (name: string, options: Record<string, unknown>): JobConfigInput => ({
  ...full('mlp'),
  partition: { kind: 'dirichlet', alpha: 0.5 },
  strategy: { name: name as 'fedavg', options },
});

const RUNS: Record<string, JobConfigInput> = {
  // npm start: the bundled subset, FedAvg with SecAgg+, until 80%.
  default: {},
  'default-plain': { secureAggregation: false },
  'mlp-full': { ...full('mlp'), targetAccuracy: 1 },
  // The CNN runs stop at the issue's targets (88%; 87% with dropouts) instead of running all 30
  // rounds: a round trains 30,000 examples, about 45 s of CPU, so 30 rounds take over 10 minutes
  // on an idle 2-core machine and over an hour when it is shared. Same seed, so the plain and
  // SecAgg+ runs sample the same clients and their rounds compare one to one.
  'cnn-full-plain': { ...full('cnn'), secureAggregation: false, targetAccuracy: 0.88 },
  'cnn-full-secagg': { ...full('cnn'), targetAccuracy: 0.88 },
  'cnn-full-secagg-dropout': {
    ...full('cnn'),
    targetAccuracy: 0.87,
    dropout: { probability: 0.1, stage: 'share-keys' },
  },
  'dirichlet-fedavg': { ...dirichlet('fedavg', {}), targetAccuracy: 1 },
  'dirichlet-fedprox': { ...dirichlet('fedprox', { proximalMu: 0.01 }), targetAccuracy: 1 },
  'dirichlet-fedadam': { ...dirichlet('fedadam', { eta: 0.01, tau: 0.001 }), targetAccuracy: 1 },
};

interface RunResult {
  readonly name: string;
  readonly config: JobConfigInput;
  readonly wallMs: number;
  readonly rounds: number;
  readonly finalAccuracy: number | null;
  readonly bestAccuracy: number | null;
  /** Mean wall time of a round, and of its secure aggregation. */
  readonly meanRoundMs: number;
  readonly meanSecAggMs: number | null;
  readonly history: History;
  /**
   * os.loadavg() (1, 5, 15 minutes) before and after the run: the machine is shared. Absent from
   * runs recorded before it was added (they stay in fl.json until re-run).
   */
  readonly loadAverage?: { readonly start: number[]; readonly end: number[] };
  /** What reproduces the run (the config above goes to `sepal simulate` in a file). */
  readonly command?: string;
}

function run(name: string, config: JobConfigInput, dir: string): RunResult {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, ...config }));
  const args = ['dist/src/cli/main.js', 'simulate', file, '--json', '--no-report'];
  const startLoad = loadavg();
  const started = performance.now();
  const child = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const wallMs = performance.now() - started;
  const endLoad = loadavg();
  if (child.status !== 0) throw new Error(`run ${name} exited with ${child.status}`);
  const history = JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as History;
  const accuracies = history.rounds.map((r) => r.centralized?.accuracy ?? 0);
  const secAgg = history.rounds.flatMap((r) =>
    r.secAgg === undefined ? [] : [Object.values(r.secAgg.stageMs).reduce((a, b) => a + b, 0)],
  );
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    name,
    config,
    wallMs,
    rounds: history.rounds.length,
    finalAccuracy: accuracies.at(-1) ?? null,
    bestAccuracy: accuracies.length > 0 ? Math.max(...accuracies) : null,
    meanRoundMs: mean(history.rounds.map((r) => r.durationMs)),
    meanSecAggMs: secAgg.length > 0 ? mean(secAgg) : null,
    history,
    loadAverage: { start: startLoad, end: endLoad },
    command: `npm run bench:fl -- ${name}`,
  };
}

function table(results: readonly RunResult[]): string {
  const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
  const lines = [
    '| run | rounds | final acc | best acc | wall s | mean round s | mean secagg s | load avg start/end |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.rounds} | ${pct(r.finalAccuracy)} | ${pct(r.bestAccuracy)} | ` +
        `${(r.wallMs / 1000).toFixed(1)} | ${(r.meanRoundMs / 1000).toFixed(2)} | ` +
        `${r.meanSecAggMs === null ? '-' : (r.meanSecAggMs / 1000).toFixed(2)} | ` +
        `${r.loadAverage === undefined ? '-' : `${r.loadAverage.start[0]?.toFixed(1)}/${r.loadAverage.end[0]?.toFixed(1)}`} |`,
    ),
  ];
  return lines.join('\n');
}

const names = process.argv.slice(2);
for (const name of names) if (!(name in RUNS)) throw new Error(`unknown run ${name}`);
const dir = mkdtempSync(join(tmpdir(), 'sepal-bench-fl-'));
mkdirSync(OUT, { recursive: true });
const jsonPath = join(OUT, 'fl.json');
// Runs accumulate across invocations, so subsets can be measured one at a time.
let previous: RunResult[] = [];
try {
  previous = JSON.parse(readFileSync(jsonPath, 'utf8')) as RunResult[];
} catch {
  previous = [];
}
const results = new Map(previous.map((r) => [r.name, r]));
for (const name of names.length > 0 ? names : Object.keys(RUNS)) {
  const result = run(name, RUNS[name] as JobConfigInput, dir);
  results.set(name, result);
  console.error(`${name}: ${table([result]).split('\n').at(-1)}`);
  const ordered = Object.keys(RUNS).flatMap((n) => results.get(n) ?? []);
  writeFileSync(jsonPath, JSON.stringify(ordered, null, 1) + '\n');
  writeFileSync(join(OUT, 'fl.md'), table(ordered) + '\n');
}
