// Alternating runs of the default job (`npm start`: bundled subset, 100 clients, 10 a round, MLP,
// FedAvg, until 80%) across builds, for a shared machine where one run at a time says little:
//
//   node bench/results/default-job/alternate.mjs <repeats> <checkout>:<secure|plain|complete> ...
//
// Each <checkout> is a source tree built with `npx tsc -p tsconfig.build.json` (dist/ inside it).
// Runs go round-robin (A, B, C, A, B, C, ...) so that load drifts hit every variant alike. Per run
// it records every round's wall time, secAgg stage times and afterFitMs, the process CPU time
// (user + sys, from /usr/bin/time: all threads) and os.loadavg() before and after; alternation.json
// gets the runs, alternation-table.md the medians and the paired ratios. With `table` instead of
// <repeats> it rebuilds alternation-table.md from the recorded alternation.json without running;
// `table <file.json> ...` prints the table of several recorded alternations pooled.
// Used for bench/results/default-job/alternation.md.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const [repeatsArg, ...variantArgs] = process.argv.slice(2);
const out = dirname(fileURLToPath(import.meta.url));
// `table a.json b.json ...` pools recorded alternations (a run still pairs only with the plain run
// of its own file and repeat) and prints the table without writing it.
const pooled = repeatsArg === 'table' && variantArgs.length > 0;
const recorded =
  repeatsArg === 'table'
    ? (pooled ? variantArgs : [join(out, 'alternation.json')]).flatMap((file, f) =>
        JSON.parse(readFileSync(file, 'utf8')).map((run) => ({
          ...run,
          repeat: f * 1000 + run.repeat,
        })),
      )
    : undefined;
const variants = recorded === undefined ? variantArgs : [...new Set(recorded.map((r) => r.variant))];
const repeats = recorded === undefined ? Number(repeatsArg) : 0;
if ((recorded === undefined && !(repeats >= 1)) || variants.length === 0) {
  throw new Error(
    'usage: alternate.mjs <repeats> <checkout>:<secure|plain|complete> ... | alternate.mjs table',
  );
}
const configs = {
  secure: { name: 'default' },
  plain: { name: 'default-plain', secureAggregation: false },
  // The library's default graph for 10 sampled clients: complete (SecAgg), as the default job
  // used before it took SecAgg+ with shareNum 5.
  complete: { name: 'default-complete', secureAggregation: {} },
};
// The job configs are written only when there are runs to make.
const dir = repeats > 0 ? mkdtempSync(join(tmpdir(), 'sepal-alternate-')) : undefined;
for (const [kind, config] of dir === undefined ? [] : Object.entries(configs)) {
  writeFileSync(join(dir, `${kind}.json`), JSON.stringify(config));
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const runs = recorded ?? [];
for (let repeat = 0; repeat < repeats; repeat++) {
  for (const variant of variants) {
    const [checkout, kind] = variant.split(':');
    const args = [join(checkout, 'dist/src/cli/main.js'), 'simulate', join(dir, `${kind}.json`)];
    const start = loadavg();
    const started = performance.now();
    const child = spawnSync(
      '/usr/bin/time',
      ['-f', 'CPU %U %S', process.execPath, ...args, '--json', '--no-report'],
      { encoding: 'utf8', maxBuffer: 1 << 28 },
    );
    const wallMs = performance.now() - started;
    if (child.status !== 0) throw new Error(`${variant} exited with ${child.status}: ${child.stderr}`);
    const [, user, sys] = /CPU ([\d.]+) ([\d.]+)/.exec(child.stderr);
    const history = JSON.parse(child.stdout.trim().split('\n').at(-1));
    const durations = history.rounds.map((r) => r.durationMs);
    const run = {
      repeat,
      variant,
      command: `node ${args.join(' ')} --json --no-report`,
      wallMs,
      cpuS: Number(user) + Number(sys),
      rounds: history.rounds.length,
      finalAccuracy: history.rounds.at(-1)?.centralized?.accuracy ?? null,
      medianRoundMs: median(durations),
      roundMs: durations,
      afterFitMs: history.rounds.map((r) => r.secAgg?.afterFitMs ?? null),
      stageMs: history.rounds.map((r) => r.secAgg?.stageMs ?? null),
      loadavg: { start, end: loadavg() },
    };
    runs.push(run);
    console.error(
      `${repeat} ${variant}: median round ${run.medianRoundMs.toFixed(0)} ms, ` +
        `cpu ${run.cpuS.toFixed(1)} s, load ${start[0].toFixed(1)} -> ${run.loadavg.end[0].toFixed(1)}`,
    );
    writeFileSync(join(out, 'alternation.json'), JSON.stringify(runs, null, 1) + '\n');
  }
}

const rows = variants.map((variant) => {
  const mine = runs.filter((r) => r.variant === variant);
  return {
    variant,
    runs: mine.length,
    medianRoundMs: median(mine.map((r) => r.medianRoundMs)),
    cpuS: median(mine.map((r) => r.cpuS)),
    rounds: mine.map((r) => r.rounds).join(', '),
    load: mine.flatMap((r) => [r.loadavg.start[0], r.loadavg.end[0]]),
  };
});
// Rounds shorten as a run warms up, and secure and plain runs may stop after different numbers
// of rounds, so each run is compared with the plain run of its own repeat over the same rounds:
// 2 (the first carries start-up) up to the shorter run's last.
const plainVariant = variants.find((v) => v.endsWith(':plain'));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const range = (xs) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
const paired = variants
  .filter((variant) => plainVariant !== undefined && variant !== plainVariant)
  .map((variant) => {
    const pairs = [];
    for (const run of runs.filter((r) => r.variant === variant)) {
      const base = runs.find((r) => r.variant === plainVariant && r.repeat === run.repeat);
      if (base === undefined) continue;
      const last = Math.min(run.roundMs.length, base.roundMs.length);
      const [mine, theirs] = [run, base].map((r) => r.roundMs.slice(1, last));
      pairs.push({ medians: [median(mine), median(theirs)], means: [mean(mine), mean(theirs)] });
    }
    const ratios = (key) => pairs.map((p) => p[key][0] / p[key][1]);
    const ofMedians = (key) =>
      median(pairs.map((p) => p[key][0])) / median(pairs.map((p) => p[key][1]));
    return `| ${variant} | ${pairs.length} | ${median(ratios('medians')).toFixed(3)} (${range(ratios('medians'))}) | ${median(ratios('means')).toFixed(3)} (${range(ratios('means'))}) | ${ofMedians('medians').toFixed(3)} |`;
  });
const lines = [
  '| variant | runs | rounds | median of per-run median round ms | median CPU s per run | load avg (1 min) range |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.variant} | ${r.runs} | ${r.rounds} | ${r.medianRoundMs.toFixed(0)} | ${r.cpuS.toFixed(1)} | ` +
      `${Math.min(...r.load).toFixed(1)}-${Math.max(...r.load).toFixed(1)} |`,
  ),
  ...(paired.length === 0
    ? []
    : [
        '',
        `Against the plain run of the same repeat (${plainVariant}), rounds 2 to the shorter run's last:`,
        '',
        '| variant | pairs | median ratio of per-run median round (range) | median ratio of per-run mean round (range) | ratio of the medians over runs |',
        '|---|---|---|---|---|',
        ...paired,
      ]),
];
if (!pooled) writeFileSync(join(out, 'alternation-table.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
