/**
 * What secure aggregation costs the simulator's main thread in the default job, without the
 * training that hides it: the issue-3 overhead target's cause, measured deterministically.
 *
 * In `npm start` the ten sampled clients train on worker threads, while their SecAgg work (the
 * update Δ, quantizing, key agreement, masking, encoding) and the server's run on the main
 * thread; on two cores that work competes with training for CPU. Here the same server loop,
 * strategy and ClientHosts run with clients whose fit returns the global model plus a fixed
 * offset (the default job's MLP, 101,770 parameters), so the process's CPU time is the main
 * thread's. Secure (the default job's SecAgg+, shareNum 5) and plain runs alternate; the result
 * is the median over repeats of (secure − plain) CPU ms per round.
 *
 *   node --import tsx bench/secagg-main-thread.ts            (BENCH_REPEATS, default 8)
 *
 * Writes bench/results/secagg-main-thread.json. To compare with another commit, run the same
 * file from a checkout of it (see bench/results/default-job/alternation.md).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../src/crypto/random.js';
import type { Client } from '../src/fl/client.js';
import { localProxy } from '../src/fl/local-proxy.js';
import type { Parameters } from '../src/fl/parameters.js';
import { runServer } from '../src/fl/server.js';
import { FedAvg } from '../src/fl/strategy/fedavg.js';
import { initialParameters } from '../src/models/architectures.js';
import { useBackend } from '../src/models/tf.js';
import { DEFAULT_CONFIG } from '../src/sim/config.js';
import { median } from './stats.js';

const repeats = Number(process.env['BENCH_REPEATS'] ?? 8);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 10);
const out = process.env['BENCH_OUT'] ?? 'bench/results';
const sampled = 10;

await useBackend();
const initial = initialParameters(DEFAULT_CONFIG.model, { height: 28, width: 28, classes: 10 });

/** A client whose "training" adds its own fixed offset (±0.005) to the global model. */
function offsetClient(index: number): Client {
  const random = seededRandom(index, 'sepal/bench/secagg-main-thread');
  const offsets = initial.map(({ values }) => {
    const bytes = new Uint8Array(values.length);
    random.fill(bytes);
    return Float32Array.from(bytes, (b) => (b - 127.5) / 25_500);
  });
  return {
    getParameters: async () => initial,
    fit: async (parameters: Parameters) => ({
      parameters: parameters.map((tensor, t) => ({
        ...tensor,
        values: tensor.values.map((v, i) => v + ((offsets[t] as Float32Array)[i] as number)),
      })),
      numExamples: 60,
      metrics: {},
    }),
    evaluate: async () => ({ loss: 0, numExamples: 1, metrics: {} }),
  };
}

/** CPU ms per round of `rounds` rounds, secure or plain. */
async function cpuPerRound(secure: boolean): Promise<number> {
  const clients = Array.from({ length: sampled }, (_, i) =>
    localProxy(`client-${i + 1}`, offsetClient(i), { random: seededRandom(i, 'client') }),
  );
  const strategy = new FedAvg({
    initialParameters: initial,
    fractionFit: 1,
    minFitClients: sampled,
    minAvailableClients: sampled,
    fractionEvaluate: 0,
    ...(secure && DEFAULT_CONFIG.secureAggregation !== false
      ? { secureAggregation: DEFAULT_CONFIG.secureAggregation }
      : {}),
  });
  const start = process.cpuUsage();
  await runServer({ strategy, clients, numRounds: rounds, random: seededRandom(1, 'server') });
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / rounds;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

const loadBefore = loadavg();
await cpuPerRound(true); // warm-up: compile the hot paths before measuring
const pairs: { secure: number; plain: number }[] = [];
for (let r = 0; r < repeats; r++) {
  const secure = await cpuPerRound(true);
  const plain = await cpuPerRound(false);
  pairs.push({ secure: round1(secure), plain: round1(plain) });
  console.log(`${r}: secure ${secure.toFixed(1)} ms, plain ${plain.toFixed(1)} ms a round`);
}
const extra = median(pairs.map((p) => p.secure - p.plain));
const result = {
  date: new Date().toISOString(),
  command: `BENCH_REPEATS=${repeats} BENCH_ROUNDS=${rounds} node --import tsx bench/secagg-main-thread.ts`,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  loadAverage: { before: loadBefore, after: loadavg() },
  setting: {
    clients: sampled,
    parameters: initial.reduce((n, t) => n + t.values.length, 0),
    secureAggregation: DEFAULT_CONFIG.secureAggregation,
  },
  pairs,
  secureMinusPlainCpuMsPerRound: round1(extra),
  perClientCpuMs: round1(extra / sampled),
};
writeFileSync(join(out, 'secagg-main-thread.json'), JSON.stringify(result, null, 2) + '\n');
console.log(
  `secure − plain: ${result.secureMinusPlainCpuMsPerRound} ms of CPU a round, ${result.perClientCpuMs} ms a client (median of ${repeats})`,
);
