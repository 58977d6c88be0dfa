/**
 * `npm run bench:secagg`: the seed paper's Figure 4 on this machine. shareNum 51, threshold 26,
 * 5% of clients dropping after share-keys; (a) L = 100k with N = 100..500, (b) N = 100 with
 * L = 100k..500k. Each configuration runs as its own `sepal secagg simulate` process (so peak
 * memory is per configuration) and is repeated; figures are medians over repeats.
 *
 * Inputs: the paper's 24-bit entries cannot be summed over 500 clients modulo 2^32 (the seed's
 * own rule, modRange >= maxWeight x targetRange x N, allows at most 2^23 levels), so targetRange
 * is 2^22 with unit weights — Flower's configuration in ANCHORS.md. Masked entries are 32-bit
 * words either way, so the cost is the same.
 *
 * Writes bench/results/secagg.json, secagg.md and secagg.svg.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineCharts } from '../src/report/small-multiples.js';

const SHARE_NUM = 51;
const THRESHOLD = 26;
const DROPOUT = 0.05;
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const out = process.env.BENCH_OUT ?? 'bench/results';

interface Row {
  clients: number;
  dim: number;
  dropped: number;
  survivors: number;
  correct: boolean;
  /** A warm server's round, replayed alone (see src/sim/secagg-round.ts); the others beside it. */
  serverCpuMs: number;
  serverCpuMsFirstRound: number;
  serverCpuMsInSimulation: number;
  clientCpuMsMedian: number;
  clientCpuMsP95: number;
  bytesPerClientUp: number;
  bytesPerClientDown: number;
  peakRssMb: number;
  floorMs: number;
  serverOverFloor: number;
}

/** AES-128-CTR keystream rate of this machine's OpenSSL, bytes per second, 16 KB blocks. */
function aesRate(): number {
  const text = execFileSync(
    'openssl',
    ['speed', '-seconds', '2', '-bytes', '16384', '-evp', 'aes-128-ctr'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const line = text.split('\n').find((l) => /^aes-128-ctr/i.test(l.trim()));
  const kbPerSecond = Number(line?.trim().split(/\s+/).pop()?.replace(/k$/, ''));
  if (!Number.isFinite(kbPerSecond)) throw new Error(`cannot read openssl speed output:\n${text}`);
  return kbPerSecond * 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function run(clients: number, dim: number, rate: number): Row {
  const runs = Array.from({ length: repeats }, (_, r) => {
    const json = execFileSync(
      process.execPath,
      [
        'dist/src/cli/main.js',
        'secagg',
        'simulate',
        '--clients',
        String(clients),
        '--dim',
        String(dim),
        '--share-num',
        String(SHARE_NUM),
        '--threshold',
        String(THRESHOLD),
        '--dropout',
        String(DROPOUT),
        '--dropout-stage',
        'share-keys',
        '--clipping-range',
        '8',
        '--target-range',
        String(2 ** 22),
        '--max-weight',
        '1',
        '--mod-range',
        String(2 ** 32),
        '--seed',
        String(r + 1),
        '--json',
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    return JSON.parse(json.trim().split('\n').pop() as string) as Row & { shareNum: number };
  });
  const pick = (key: keyof Row) => median(runs.map((r) => r[key] as number));
  const first = runs[0] as Row & { shareNum: number };
  const words = (first.survivors + first.dropped * (first.shareNum - 1)) * dim;
  const floorMs = ((words * 4) / rate) * 1000;
  const row: Row = {
    clients,
    dim,
    dropped: first.dropped,
    survivors: first.survivors,
    correct: runs.every((r) => r.correct),
    serverCpuMs: pick('serverCpuMs'),
    serverCpuMsFirstRound: pick('serverCpuMsFirstRound'),
    serverCpuMsInSimulation: pick('serverCpuMsInSimulation'),
    clientCpuMsMedian: pick('clientCpuMsMedian'),
    clientCpuMsP95: pick('clientCpuMsP95'),
    bytesPerClientUp: pick('bytesPerClientUp'),
    bytesPerClientDown: pick('bytesPerClientDown'),
    peakRssMb: pick('peakRssMb'),
    floorMs,
    serverOverFloor: pick('serverCpuMs') / floorMs,
  };
  console.error(
    `N=${clients} L=${dim}: server ${row.serverCpuMs.toFixed(0)} ms (first round ${row.serverCpuMsFirstRound.toFixed(0)}), client ${row.clientCpuMsMedian.toFixed(1)} ms, correct ${row.correct}`,
  );
  return row;
}

/** Least-squares line y = a + b x and its R^2. */
function fit(xs: number[], ys: number[]) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b) / n;
  const my = ys.reduce((a, b) => a + b) / n;
  const sxy = xs.reduce((acc, x, i) => acc + (x - mx) * ((ys[i] as number) - my), 0);
  const sxx = xs.reduce((acc, x) => acc + (x - mx) ** 2, 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const ssRes = ys.reduce((acc, y, i) => acc + (y - intercept - slope * (xs[i] as number)) ** 2, 0);
  const ssTot = ys.reduce((acc, y) => acc + (y - my) ** 2, 0);
  return { intercept, slope, r2: 1 - ssRes / ssTot };
}

const rate = aesRate();
console.error(
  `AES-128-CTR: ${(rate / 1e9).toFixed(2)} GB/s; ${repeats} repeat(s) per configuration`,
);
const byClients = [100, 200, 300, 400, 500].map((n) => run(n, 100_000, rate));
const byDim = [100_000, 200_000, 300_000, 400_000, 500_000].map((l) => run(100, l, rate));
const fitN = fit(
  byClients.map((r) => r.clients),
  byClients.map((r) => r.serverCpuMs),
);
const fitL = fit(
  byDim.map((r) => r.dim),
  byDim.map((r) => r.serverCpuMs),
);

const at500 = byClients[4] as Row;
const targets = {
  serverCpuMsAtN500: {
    measured: at500.serverCpuMs,
    target: 1000,
    stretchFloorMultiple: 5,
    measuredFloorMultiple: at500.serverOverFloor,
  },
  clientCpuMsAtN500: { measured: at500.clientCpuMsMedian, target: 50, stretch: 20 },
  bytesUpAtN500: { measured: at500.bytesPerClientUp, target: 4 * (100_000 + 1) + 200 * SHARE_NUM },
  bytesDownAtN500: { measured: at500.bytesPerClientDown, target: 320 * SHARE_NUM },
};
const result = {
  date: new Date().toISOString(),
  machine: {
    cpus: (await import('node:os')).cpus()[0]?.model,
    cores: (await import('node:os')).cpus().length,
    node: process.version,
    // Load average at the end of the run: other work on the machine inflates CPU times.
    loadAverage: (await import('node:os')).loadavg(),
  },
  config: {
    shareNum: SHARE_NUM,
    threshold: THRESHOLD,
    dropout: DROPOUT,
    dropoutStage: 'share-keys',
    targetRange: 2 ** 22,
    modRange: 2 ** 32,
    maxWeight: 1,
    clippingRange: 8,
    repeats,
  },
  aes128CtrBytesPerSecond: rate,
  byClients,
  byDim,
  linearFit: { serverCpuMsVsClients: fitN, serverCpuMsVsDim: fitL },
  targets,
};
writeFileSync(join(out, 'secagg.json'), JSON.stringify(result, null, 2) + '\n');

const header =
  '| N | L | server CPU ms | x floor | first round ms | amid clients ms | client CPU ms (median / p95) | bytes up | bytes down | peak RSS MB | correct |\n|---|---|---|---|---|---|---|---|---|---|---|';
const line = (r: Row) =>
  `| ${r.clients} | ${r.dim / 1000}k | ${r.serverCpuMs.toFixed(0)} | ${r.serverOverFloor.toFixed(1)} | ${r.serverCpuMsFirstRound.toFixed(0)} | ${r.serverCpuMsInSimulation.toFixed(0)} | ${r.clientCpuMsMedian.toFixed(1)} / ${r.clientCpuMsP95.toFixed(1)} | ${r.bytesPerClientUp.toLocaleString('en-US')} | ${r.bytesPerClientDown.toLocaleString('en-US')} | ${r.peakRssMb.toFixed(0)} | ${r.correct ? 'yes' : 'NO'} |`;
const markdown = [
  `AES-128-CTR on this machine: ${(rate / 1e9).toFixed(2)} GB/s (openssl speed, 16 KB blocks). Medians of ${repeats} run(s). Server CPU is measured by replaying the round's client messages into a fresh server after the simulated clients are gone, twice: the second replay is a running server's round (server CPU); the first, right after the full collection that removes the clients' garbage and discards the server's optimized code, is its first round. The figure amid the clients (their garbage collection mixed in) is beside them.`,
  '',
  header,
  ...[...byClients, ...byDim.slice(1)].map(line),
  '',
  `Server CPU vs N (L = 100k): ${fitN.slope.toFixed(2)} ms per client + ${fitN.intercept.toFixed(0)} ms, R² = ${fitN.r2.toFixed(3)}.`,
  `Server CPU vs L (N = 100): ${(fitL.slope * 1000).toFixed(2)} ms per 1k entries + ${fitL.intercept.toFixed(0)} ms, R² = ${fitL.r2.toFixed(3)}.`,
].join('\n');
writeFileSync(join(out, 'secagg.md'), markdown + '\n');
writeFileSync(
  join(out, 'secagg.svg'),
  lineCharts('SecAgg+ (shareNum 51, threshold 26, 5% dropped after share-keys)', [
    {
      title: 'server CPU (s) vs N, L = 100k',
      xs: byClients.map((r) => r.clients),
      ys: byClients.map((r) => r.serverCpuMs / 1000),
    },
    {
      title: 'client CPU (ms) vs N',
      xs: byClients.map((r) => r.clients),
      ys: byClients.map((r) => r.clientCpuMsMedian),
    },
    {
      title: 'KB up per client vs N',
      xs: byClients.map((r) => r.clients),
      ys: byClients.map((r) => r.bytesPerClientUp / 1000),
    },
    {
      title: 'server CPU (s) vs L (k), N = 100',
      xs: byDim.map((r) => r.dim / 1000),
      ys: byDim.map((r) => r.serverCpuMs / 1000),
    },
    {
      title: 'client CPU (ms) vs L (k)',
      xs: byDim.map((r) => r.dim / 1000),
      ys: byDim.map((r) => r.clientCpuMsMedian),
    },
    {
      title: 'KB up per client vs L (k)',
      xs: byDim.map((r) => r.dim / 1000),
      ys: byDim.map((r) => r.bytesPerClientUp / 1000),
    },
  ]),
);
console.log(markdown);
