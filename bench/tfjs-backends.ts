/**
 * TensorFlow.js backends for Sepal's models on Node: the pure-JS 'cpu' backend against
 * WebAssembly ('wasm', with SIMD where the runtime has it; its multi-threaded build is off in
 * Node). Three sections:
 *
 * - steps: one SGD step (forward, backward, update) of each model at two batch sizes, and
 *   evaluation throughput; medians of BENCH_REPEATS samples. This picks DEFAULT_BACKEND.
 * - kernels (wasm): the kernels tfjs's default gradients use against the forward formulations
 *   src/models/gradients.ts substitutes, which is why those overrides exist.
 * - centralized: epochs of plain SGD (batch 32) on the bundled subset (BENCH_EPOCHS, default 10)
 *   and on the full data (BENCH_FULL_EPOCHS, default 2; 0 skips it); seconds per epoch and test
 *   accuracy after each.
 *
 *   node --import tsx bench/tfjs-backends.ts   (or npm run build && node dist/bench/tfjs-backends.js)
 *
 * Times are wall-clock and CPU (process.cpuUsage; one busy thread) milliseconds. The machine is
 * shared, so CPU time is the steadier figure. Writes bench/results/tfjs-backends.json.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { ImageDataset } from '../src/data/dataset.js';
import { loadFashionMnist } from '../src/data/fashion-mnist.js';
import { MODEL_KINDS, type ModelKind } from '../src/models/architectures.js';
import { allExamples } from '../src/models/batches.js';
import { BACKENDS, tf, useBackend, type BackendName } from '../src/models/tf.js';
import { Trainer } from '../src/models/trainer.js';

const repeats = Number(process.env.BENCH_REPEATS ?? 7);
const subsetEpochs = Number(process.env.BENCH_EPOCHS ?? 10);
const fullEpochs = Number(process.env.BENCH_FULL_EPOCHS ?? 2);
const out = process.env.BENCH_OUT ?? 'bench/results';

const BATCH_SIZES = [10, 32];
const LEARNING_RATE = 0.05;
const EVALUATE_EXAMPLES = 1000;

interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function time<T>(run: () => T | Promise<T>): Promise<{ timing: Timing; value: T }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await run();
  const used = process.cpuUsage(cpu);
  return {
    timing: { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 },
    value,
  };
}

/** Medians over `repeats` samples of `run`, divided by `per` (the operations in one sample). */
async function medianOf(run: () => unknown, per: number): Promise<Timing> {
  await run(); // warm-up: kernel setup, first allocations
  const samples: Timing[] = [];
  for (let r = 0; r < repeats; r++) samples.push((await time(run)).timing);
  return {
    wallMs: median(samples.map((s) => s.wallMs)) / per,
    cpuMs: median(samples.map((s) => s.cpuMs)) / per,
  };
}

const range = (start: number, count: number) =>
  Uint32Array.from({ length: count }, (_, i) => start + i);

/** Steps per sample: enough for tens of milliseconds, few where a step is slow (cnn on cpu). */
function stepsPerSample(backend: BackendName, kind: ModelKind): number {
  if (kind === 'mlp') return 20;
  return backend === 'wasm' ? 5 : 2;
}

async function stepTimings(train: ImageDataset) {
  const rows = [];
  for (const backend of BACKENDS) {
    await useBackend(backend);
    for (const kind of MODEL_KINDS) {
      const trainer = new Trainer(kind, train);
      const parameters = trainer.parameters();
      for (const batchSize of BATCH_SIZES) {
        const steps = stepsPerSample(backend, kind);
        const examples = { dataset: train, indices: range(0, steps * batchSize) };
        const config = { epochs: 1, batchSize, learningRate: LEARNING_RATE };
        const step = await medianOf(() => trainer.fit(parameters, examples, config), steps);
        rows.push({ backend, model: kind, batchSize, step });
        console.log(`${backend} ${kind} B=${batchSize}: ${step.cpuMs.toFixed(2)} ms CPU per step`);
      }
      const evaluation = { dataset: train, indices: range(0, EVALUATE_EXAMPLES) };
      const evaluate = await medianOf(() => trainer.evaluate(parameters, evaluation), 1);
      rows.push({ backend, model: kind, evaluate1000: evaluate });
      console.log(`${backend} ${kind} evaluate 1000: ${evaluate.cpuMs.toFixed(1)} ms CPU`);
      trainer.dispose();
    }
  }
  return rows;
}

/** wasm kernels that tfjs's default gradients call, against the formulations Sepal uses. */
async function kernelTimings() {
  await useBackend('wasm');
  const r = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', 1);
  const x = r([32, 784]);
  const dy = r([32, 128]);
  const images = r([32, 14, 14, 8]) as tf.Tensor4D;
  const filter = r([5, 5, 8, 16]) as tf.Tensor4D;
  const convDy = r([32, 14, 14, 16]) as tf.Tensor4D;
  const pooled = r([32, 28, 28, 8]) as tf.Tensor4D;
  const pooledY = tf.maxPool(pooled, 2, 2, 'valid');
  const poolDy = r(pooledY.shape);
  const pairs: [string, () => tf.Tensor, () => tf.Tensor][] = [
    [
      'dense kernel gradient xᵀ·dy [784x32]·[32x128]',
      () => tf.matMul(x, dy, true, false),
      () => tf.matMul(tf.transpose(x), dy),
    ],
    [
      'conv input gradient, 5x5, 8->16 channels, 14x14, batch 32',
      () => tf.conv2dTranspose(convDy, filter, images.shape, 1, 'same'),
      () =>
        tf.conv2d(
          tf.pad(convDy, [
            [0, 0],
            [2, 2],
            [2, 2],
            [0, 0],
          ]),
          tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D,
          1,
          'valid',
        ),
    ],
    [
      'max-pool gradient, 2x2, 28x28x8, batch 32',
      () =>
        tf
          .engine()
          .runKernel(
            'MaxPoolGrad',
            { dy: poolDy, input: pooled, output: pooledY },
            { filterSize: 2, strides: 2, pad: 'valid' },
          ) as tf.Tensor,
      () => tf.grad((p: tf.Tensor) => tf.maxPool(p as tf.Tensor4D, 2, 2, 'valid'))(pooled, poolDy),
    ],
  ];
  const rows = [];
  for (const [name, tfjsDefault, sepal] of pairs) {
    // Returns nothing from tidy: tidy walks a returned value's elements looking for tensors.
    const sample = (f: () => tf.Tensor) => () =>
      tf.tidy(() => {
        f().dataSync();
      });
    const tfjs = await medianOf(sample(tfjsDefault), 1);
    const ours = await medianOf(sample(sepal), 1);
    rows.push({ kernel: name, tfjsDefault: tfjs, sepal: ours });
    console.log(`${name}: ${tfjs.cpuMs.toFixed(2)} -> ${ours.cpuMs.toFixed(2)} ms CPU`);
  }
  return rows;
}

async function centralized(
  data: { train: ImageDataset; test: ImageDataset; source: string },
  epochs: number,
) {
  await useBackend();
  const rows = [];
  for (const kind of MODEL_KINDS) {
    const trainer = new Trainer(kind, data.train);
    let parameters = trainer.parameters();
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const config = { epochs: 1, batchSize: 32, learningRate: LEARNING_RATE, seed: epoch };
      const { timing, value: fitted } = await time(() =>
        trainer.fit(parameters, allExamples(data.train), config),
      );
      parameters = fitted.parameters;
      const { metrics } = await trainer.evaluate(parameters, allExamples(data.test));
      rows.push({
        data: data.source,
        trainExamples: data.train.count,
        model: kind,
        epoch,
        seconds: { wall: timing.wallMs / 1000, cpu: timing.cpuMs / 1000 },
        testAccuracy: metrics.accuracy,
      });
      console.log(
        `${kind} on ${data.train.count} examples, epoch ${epoch}: ${(timing.cpuMs / 1000).toFixed(1)} s CPU, test accuracy ${metrics.accuracy.toFixed(4)}`,
      );
    }
    trainer.dispose();
  }
  return rows;
}

const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
const subset = await loadFashionMnist({ subset: true });
await useBackend('wasm');
const environment = {
  node: process.version,
  tfjs: tf.version.tfjs,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  loadAverageAtStart: loadavg()[0],
  wasmSimd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
  wasmThreads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
};
const steps = await stepTimings(subset.train);
const kernels = await kernelTimings();
const epochRows = await centralized(subset, subsetEpochs);
if (fullEpochs > 0) {
  const data = await loadFashionMnist(); // the full set where installed, else the subset again
  if (data.source !== subset.source) epochRows.push(...(await centralized(data, fullEpochs)));
}
const result = {
  command: 'node --import tsx bench/tfjs-backends.ts',
  settings: {
    repeats,
    subsetEpochs,
    fullEpochs,
    batchSizes: BATCH_SIZES,
    learningRate: LEARNING_RATE,
  },
  commit: git(['rev-parse', '--short', 'HEAD']),
  date: new Date().toISOString(),
  environment,
  steps,
  kernels,
  centralized: epochRows,
};
writeFileSync(join(out, 'tfjs-backends.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${join(out, 'tfjs-backends.json')}`);
