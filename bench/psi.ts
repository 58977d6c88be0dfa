/**
 * `npx tsx bench/psi.ts`: ECDH-PSI alignment time against the target (100,000 ids per
 * side in <= 10 s). Each size runs the full protocol in one process (simulatePsi: both parties,
 * real encoded messages) with 80% of the ids in common, BENCH_REPEATS times; figures are medians
 * of CPU time (the machine is shared, so wall time measures the neighbours too). Also times the
 * group operations one by one, which explain the totals.
 *
 * Env: BENCH_PSI_SIZES (ids per side, comma-separated; default 1000,5000), BENCH_REPEATS
 * (default 3), BENCH_OUT (default bench/results). Sizes above the largest measured are
 * extrapolated linearly (every step is linear in the ids) and marked as such.
 *
 * Writes bench/results/psi.json.
 */
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode, hashToGroup, multiply, randomScalar } from '../src/vertical/psi/group.js';
import { simulatePsi } from '../src/vertical/psi/simulate.js';

const sizes = (process.env.BENCH_PSI_SIZES ?? '1000,5000').split(',').map(Number);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const out = process.env.BENCH_OUT ?? 'bench/results';
const TARGET_IDS = 100_000;
const TARGET_SECONDS = 10;

/** CPU milliseconds of this process: robust to the other engineers' jobs on the same cores. */
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Microseconds per call of `op`, median over repeats of one call per input. */
function perOp<T>(inputs: readonly T[], op: (input: T) => unknown): number {
  return median(
    Array.from({ length: repeats }, () => {
      const begin = cpuMs();
      for (const input of inputs) op(input);
      return ((cpuMs() - begin) * 1000) / inputs.length;
    }),
  );
}

// Two id spaces with 80% in common: ids 0..0.9n at one side, 0.1n..n at the other.
const sides = (n: number) => {
  const all = Array.from({ length: Math.round(n / 0.9) }, (_, i) => `user-${i}`);
  return [all.slice(0, n), all.slice(all.length - n)] as const;
};

const scalar = randomScalar();
const ids = Array.from({ length: 200 }, (_, i) => `id-${i}`);
const points = ids.map(hashToGroup);
const encoded = points.map(encode);
perOp(points, (point) => multiply(point, scalar)); // JIT warm-up
const operationsMicroseconds = {
  hashToGroup: perOp(ids, hashToGroup),
  multiply: perOp(points, (point) => multiply(point, scalar)),
  encode: perOp(points, encode),
  decode: perOp(encoded, decode),
};
console.log('group operations (µs):', operationsMicroseconds);

const rows = sizes.map((n) => {
  const [first, second] = sides(n);
  const runs = Array.from({ length: repeats }, () => {
    const [wallBegin, cpuBegin] = [performance.now(), cpuMs()];
    const run = simulatePsi({ name: 'first', ids: first }, { name: 'second', ids: second }, cpuMs);
    const [wallMs, cpuTotalMs] = [performance.now() - wallBegin, cpuMs() - cpuBegin];
    if (run.results[0].ids.length !== Math.round(n / 0.9) - 2 * (Math.round(n / 0.9) - n)) {
      throw new Error(`wrong intersection size ${run.results[0].ids.length} at n = ${n}`);
    }
    return { wallMs, cpuTotalMs, run };
  });
  const row = {
    idsPerSide: n,
    common: runs[0]?.run.results[0].ids.length,
    // Both parties one after the other in this process: CPU time, and wall time (inflated by
    // whatever else the shared machine was running).
    sequentialCpuMs: median(runs.map((r) => r.cpuTotalMs)),
    sequentialWallMs: median(runs.map((r) => r.wallMs)),
    // Each party on its own host: the parties work in lockstep (both send, both answer), so the
    // slower party's CPU time is the alignment's duration, network transfer aside.
    twoHostsCpuMs: median(runs.map((r) => Math.max(...r.run.milliseconds))),
    bytesPerSide: runs[0]?.run.bytes[0],
  };
  console.log(row);
  return row;
});

const largest = rows.at(-1);
if (largest === undefined) throw new Error('BENCH_PSI_SIZES is empty');
const measuredAtTarget = rows.find((row) => row.idsPerSide === TARGET_IDS);
const scale = TARGET_IDS / largest.idsPerSide;
const atTarget = measuredAtTarget ?? {
  idsPerSide: TARGET_IDS,
  extrapolatedFrom: largest.idsPerSide,
  sequentialCpuMs: largest.sequentialCpuMs * scale,
  twoHostsCpuMs: largest.twoHostsCpuMs * scale,
};
const result = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus()[0]?.model,
    cores: cpus().length,
    node: process.version,
    note: 'shared with other engineers running tests and benchmarks: CPU times are the figures; wall times are inflated',
    loadAverage: loadavg(),
  },
  config: { repeats, overlap: 0.8, group: 'ristretto255 (@noble/curves)', sizes },
  operationsMicroseconds,
  rows,
  target: {
    idsPerSide: TARGET_IDS,
    seconds: TARGET_SECONDS,
    measured: atTarget,
    met: atTarget.twoHostsCpuMs <= TARGET_SECONDS * 1000,
  },
};
writeFileSync(join(out, 'psi.json'), JSON.stringify(result, null, 2) + '\n');
console.log(result.target);
