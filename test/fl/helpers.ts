// Small pure-JS clients and builders for the federated-learning tests.
import type { Client, ClientProxy, FitRes } from '../../src/fl/client.js';
import type { FitResult } from '../../src/fl/strategy/strategy.js';
import type { Parameters } from '../../src/fl/parameters.js';

/** One tensor named `w` holding `values`. */
export const vector = (values: readonly number[], name = 'w'): Parameters => [
  { name, shape: [values.length], values: Float32Array.from(values) },
];

export const values = (parameters: Parameters): number[] =>
  parameters.flatMap((t) => Array.from(t.values));

/** A proxy that only serves as a strategy's handle on a client: every call fails. */
export function stubProxy(id: string): ClientProxy {
  const fail = () => Promise.reject(new Error(`stub ${id}`));
  return { id, getParameters: fail, fit: fail, evaluate: fail, secAgg: fail };
}

export function fitResult(update: readonly number[], numExamples: number, id = 'c'): FitResult {
  const res: FitRes = { parameters: vector(update), numExamples, metrics: {} };
  return { client: stubProxy(id), res };
}

/** mulberry32: a tiny deterministic generator for synthetic data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Regression {
  readonly dim: number;
  /** The true weights every client's data comes from (last entry: the bias). */
  readonly truth: Float64Array;
}

export function regressionTask(dim: number, seed = 1): Regression {
  const random = prng(seed);
  return { dim, truth: Float64Array.from({ length: dim + 1 }, () => random() * 2 - 1) };
}

export const zeroModel = (dim: number): Parameters => [
  { name: 'w', shape: [dim], values: new Float32Array(dim) },
  { name: 'b', shape: [1], values: new Float32Array(1) },
];

/**
 * A linear-regression client on `examples` synthetic points of `task`: full-batch gradient
 * descent on the mean squared error, `localSteps` steps at `learningRate` (fit config keys, with
 * defaults), plus the FedProx term (μ/2)·‖w − w_global‖² when `proximalMu` is set.
 */
export function regressionClient(task: Regression, examples: number, seed: number): Client {
  const random = prng(seed);
  const { dim, truth } = task;
  const xs = Array.from({ length: examples }, () =>
    Float64Array.from({ length: dim }, () => random() * 2 - 1),
  );
  const ys = xs.map(
    (x) =>
      x.reduce((sum, v, i) => sum + v * (truth[i] as number), truth[dim] as number) +
      (random() - 0.5) * 0.01,
  );
  const predict = (w: Float64Array, x: Float64Array) =>
    x.reduce((sum, v, i) => sum + v * (w[i] as number), w[dim] as number);
  const mse = (w: Float64Array) =>
    xs.reduce((sum, x, k) => sum + (predict(w, x) - (ys[k] as number)) ** 2, 0) / examples;
  const toVector = (p: Parameters) => Float64Array.from(values(p));
  const toParameters = (w: Float64Array): Parameters => [
    { name: 'w', shape: [dim], values: Float32Array.from(w.subarray(0, dim)) },
    { name: 'b', shape: [1], values: Float32Array.from(w.subarray(dim)) },
  ];
  return {
    getParameters: async () => zeroModel(dim),
    async fit(parameters, config) {
      const global = toVector(parameters);
      const w = global.slice();
      const steps = Number(config['localSteps'] ?? 5);
      const rate = Number(config['learningRate'] ?? 0.1);
      const mu = Number(config['proximalMu'] ?? 0);
      for (let s = 0; s < steps; s++) {
        const grad = new Float64Array(dim + 1);
        xs.forEach((x, k) => {
          const err = predict(w, x) - (ys[k] as number);
          for (let i = 0; i < dim; i++)
            grad[i] = (grad[i] as number) + (2 * err * (x[i] as number)) / examples;
          grad[dim] = (grad[dim] as number) + (2 * err) / examples;
        });
        for (let i = 0; i <= dim; i++) {
          w[i] =
            (w[i] as number) -
            rate * ((grad[i] as number) + mu * ((w[i] as number) - (global[i] as number)));
        }
      }
      return { parameters: toParameters(w), numExamples: examples, metrics: { loss: mse(w) } };
    },
    async evaluate(parameters) {
      const loss = mse(toVector(parameters));
      return { loss, numExamples: examples, metrics: { mse: loss } };
    },
  };
}
