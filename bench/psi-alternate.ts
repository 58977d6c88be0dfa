/**
 * `node --import tsx bench/psi-alternate.ts <root A> <root B>`: the PSI of two checkouts, run in
 * alternation on the same machine, so that their ratio is measured under the same load (this
 * machine's speed drifts). Each run is a fresh process doing one simulatePsi at BENCH_PSI_IDS ids
 * per side (default 100,000; 80% common) on 2 worker threads, loaded from that checkout's
 * sources (each needs node_modules and its native addon built). BENCH_PAIRS (default 3) pairs,
 * in the order A B, B A, A B, … so that a drift within a pair favours neither.
 *
 * Writes bench/results/$BENCH_ALTERNATION_OUT (default psi-alternation.json): each checkout's
 * commit (and whether its tree had changes), every run, and per pair the ratios B / A of the
 * slower party's time (each party's steps have the machine to themselves), of the wall time of
 * the whole simulation (both parties sharing the machine) and of its CPU time; medians over pairs.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { commitOf } from './commit.js';
import { median } from './stats.js';

interface Run {
  root: string;
  wallS: number;
  cpuS: number;
  partyS: [number, number];
  common: number;
}

const ids = Number(process.env.BENCH_PSI_IDS ?? 100_000);

/** One simulatePsi from `root`'s sources, in this process. */
async function once(root: string): Promise<Run> {
  const source = (path: string) => pathToFileURL(join(root, 'src', 'vertical', 'psi', path)).href;
  const { simulatePsi } = await import(source('simulate.ts'));
  const { startWorkerGroup } = await import(source('worker-group.ts'));
  const all = Array.from({ length: Math.round(ids / 0.9) }, (_, i) => `user-${i}`);
  const expected = all.length - 2 * (all.length - ids);
  const group = await startWorkerGroup({ threads: 2 });
  const cpuS = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  try {
    const [wall, cpu] = [performance.now(), cpuS()];
    const run = await simulatePsi(
      { name: 'first', ids: all.slice(0, ids) },
      { name: 'second', ids: all.slice(all.length - ids) },
      { group },
    );
    if (run.results[0].ids.length !== expected) {
      throw new Error(`${root}: ${run.results[0].ids.length} common ids, expected ${expected}`);
    }
    return {
      root,
      wallS: (performance.now() - wall) / 1000,
      cpuS: cpuS() - cpu,
      partyS: run.milliseconds.map((ms: number) => ms / 1000) as [number, number],
      common: run.results[0].ids.length,
    };
  } finally {
    await group.close();
  }
}

const round = (value: number) => Number(value.toFixed(3));

const usage = 'usage: node --import tsx bench/psi-alternate.ts <root A> <root B>';
const [mode, ...args] = process.argv.slice(2);
if (mode === '--once') {
  if (args[0] === undefined) throw new Error(usage);
  console.log(JSON.stringify(await once(resolve(args[0]))));
} else {
  const roots = [mode, ...args].filter((root) => root !== undefined).map((root) => resolve(root));
  if (roots.length !== 2) throw new Error(usage);
  const self = fileURLToPath(import.meta.url);
  const runOnce = (root: string): Run => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', self, '--once', root], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return JSON.parse(output.trim().split('\n').at(-1) as string) as Run;
  };
  const [rootA, rootB] = roots as [string, string];
  const pairs: { a: Run; b: Run; slowerParty: number; wall: number; cpu: number }[] = [];
  for (let p = 0; p < Number(process.env.BENCH_PAIRS ?? 3); p++) {
    const order = p % 2 === 0 ? [rootA, rootB] : [rootB, rootA];
    const [first, second] = order.map(runOnce) as [Run, Run];
    const [a, b] = p % 2 === 0 ? [first, second] : [second, first];
    const pair = {
      a,
      b,
      slowerParty: Math.max(...b.partyS) / Math.max(...a.partyS),
      wall: b.wallS / a.wallS,
      cpu: b.cpuS / a.cpuS,
    };
    console.log(JSON.stringify(pair));
    pairs.push(pair);
  }
  const result = {
    date: new Date().toISOString(),
    command: `BENCH_PSI_IDS=${ids} BENCH_PAIRS=${pairs.length} node --import tsx bench/psi-alternate.ts ${roots.join(' ')}`,
    commits: { a: commitOf(rootA), b: commitOf(rootB) },
    idsPerSide: ids,
    medianRatioBOverA: {
      slowerParty: round(median(pairs.map((pair) => pair.slowerParty))),
      wall: round(median(pairs.map((pair) => pair.wall))),
      cpu: round(median(pairs.map((pair) => pair.cpu))),
    },
    pairs,
  };
  writeFileSync(
    join(dirname(self), 'results', process.env.BENCH_ALTERNATION_OUT ?? 'psi-alternation.json'),
    JSON.stringify(result, null, 2) + '\n',
  );
  console.log(result.medianRatioBOverA);
}
