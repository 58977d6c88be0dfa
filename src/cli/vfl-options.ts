/**
 * The options of the `sepal vfl` example that the one-process run and both party processes share:
 * the data draw, the training schedule and the seed. Two party processes given the same values
 * train what the one-process run trains.
 */
import { UsageError } from './usage.js';

export const EXAMPLE_OPTIONS = {
  examples: { type: 'string' },
  epochs: { type: 'string' },
  noise: { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  seed: { type: 'string' },
  'data-dir': { type: 'string' },
  subset: { type: 'boolean' },
} as const;

export const EXAMPLE_HELP = `  --examples N       training images drawn on (the union of both parties' ids; default 6000)
  --epochs E         passes over the aligned rows (default 5)
  --noise S          std of Gaussian noise on cut-layer embeddings, and S per example on
                     gradients (default 0: none); a heuristic, not a DP guarantee
  --batch-size B     (default 64)
  --learning-rate R  Adam's, at each party and centrally (default 0.001)
  --seed X           ids held, row orders, batches, initial weights (default 1)
  --data-dir DIR     the four Fashion-MNIST files (default: the system's, else the bundled subset)
  --subset           use the bundled subset`;

export interface ExampleSettings {
  examples: number;
  epochs: number;
  noise: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  dataDir?: string;
  subset?: boolean;
}

/** A number option, >= 0 (and whole when `integer`), or `fallback` when absent. */
export function numberOption(
  raw: string | undefined,
  name: string,
  fallback: number,
  integer: boolean,
  min = 0,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const ok =
    raw.trim() !== '' &&
    Number.isFinite(value) &&
    value >= min &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'whole number' : 'number';
    throw new UsageError(`--${name} must be a ${kind} >= ${min}, got ${raw}`);
  }
  return value;
}

export function exampleSettings(values: {
  [K in keyof typeof EXAMPLE_OPTIONS]?: (typeof EXAMPLE_OPTIONS)[K]['type'] extends 'boolean'
    ? boolean
    : string;
}): ExampleSettings {
  if (values.subset && values['data-dir'] !== undefined) {
    throw new UsageError('give either --data-dir or --subset, not both');
  }
  return {
    examples: numberOption(values.examples, 'examples', 6000, true, 1),
    epochs: numberOption(values.epochs, 'epochs', 5, true, 1),
    noise: numberOption(values.noise, 'noise', 0, false),
    batchSize: numberOption(values['batch-size'], 'batch-size', 64, true, 1),
    learningRate: numberOption(values['learning-rate'], 'learning-rate', 0.001, false),
    seed: numberOption(values.seed, 'seed', 1, true),
    ...(values['data-dir'] !== undefined && { dataDir: values['data-dir'] }),
    ...(values.subset && { subset: true }),
  };
}
