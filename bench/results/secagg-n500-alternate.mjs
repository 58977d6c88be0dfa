// Alternating N = 500, L = 100k SecAgg+ rounds (the target configuration) of two or more
// checkouts, seed by seed, for a shared machine where one run at a time says little:
//
//   node bench/results/secagg-n500-alternate.mjs <out.json> <seeds> <checkout> <checkout> ...
//
// e.g. `node bench/results/secagg-n500-alternate.mjs bench/results/secagg-n500-native.json 1,2,3,4
// /tmp/base .` with /tmp/base a worktree of the older commit (node_modules linked, native kernels
// built there if it has them). Each run is `sepal secagg simulate ... --json` from sources (tsx);
// the JSON keeps every run and, per checkout, the medians and the ratio to the first checkout's
// run of the same seed.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';

const [out, seedList, ...checkouts] = process.argv.slice(2);
if (out === undefined || seedList === undefined || checkouts.length < 1) {
  console.error('usage: secagg-n500-alternate.mjs <out.json> <seeds, e.g. 1,2,3> <checkout>...');
  process.exit(2);
}
const ARGS = ['--clients', '500', '--dim', '100000', '--share-num', '51', '--threshold', '26'];
ARGS.push('--target-range', '4194304', '--max-weight', '1', '--dropout', '0.05');
ARGS.push('--dropout-stage', 'share-keys', '--json');

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const runs = [];
for (const seed of seedList.split(',').map(Number)) {
  for (const checkout of checkouts) {
    const cwd = resolve(checkout);
    const before = loadavg()[0];
    const stdout = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'secagg', 'simulate', ...ARGS, '--seed', String(seed)],
      { cwd, encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1));
    const run = {
      checkout,
      seed,
      serverCpuMs: Math.round(report.serverCpuMs),
      serverCpuMsByStage: Object.fromEntries(
        Object.entries(report.serverCpuMsByStage).map(([k, v]) => [k, Math.round(v)]),
      ),
      serverCpuMsInSimulation: Math.round(report.serverCpuMsInSimulation),
      clientCpuMsMedian: Math.round(report.clientCpuMsMedian * 10) / 10,
      clientCpuMsP95: Math.round(report.clientCpuMsP95 * 10) / 10,
      bytesPerClientUp: report.bytesPerClientUp,
      bytesPerClientDown: report.bytesPerClientDown,
      correct: report.correct,
      loadBefore: Math.round(before * 100) / 100,
    };
    runs.push(run);
    console.log(JSON.stringify(run));
  }
}

const summary = checkouts.map((checkout) => {
  const mine = runs.filter((r) => r.checkout === checkout);
  const ratios = mine.map((r) => {
    const first = runs.find((b) => b.checkout === checkouts[0] && b.seed === r.seed);
    return Math.round((r.serverCpuMs / first.serverCpuMs) * 1000) / 1000;
  });
  return {
    checkout,
    serverCpuMsMedian: median(mine.map((r) => r.serverCpuMs)),
    clientCpuMsMedian: median(mine.map((r) => r.clientCpuMsMedian)),
    serverRatioToFirstBySeed: ratios,
    serverRatioToFirstMedian: median(ratios),
  };
});
writeFileSync(out, JSON.stringify({ args: ARGS, checkouts, runs, summary }, null, 2) + '\n');
console.log(JSON.stringify(summary, null, 2));
