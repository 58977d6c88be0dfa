/**
 * The typed configuration of a federated job: one file describes a run that `sepal simulate`
 * executes in one process and that `sepal server` / `sepal client` execute over the network.
 *
 * A config is JSON (or a JS/TS module whose default export is a config, typed with
 * {@link defineConfig}). Everything is validated before any work starts, and every error names the
 * field as written in the file (`fit.epochs`, `strategy.name`, …).
 */
import { ConfigError } from '../fl/errors.js';
import type { SecAggOptions } from '../secagg/params.js';
import { STAGES, type Stage } from '../secagg/stages.js';

export const STRATEGY_NAMES = [
  'fedavg',
  'fedprox',
  'fedavgm',
  'fedadagrad',
  'fedadam',
  'fedyogi',
  'fedmedian',
  'fedtrimmedavg',
  'krum',
] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export const MODEL_NAMES = ['mlp', 'cnn'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export type PartitionConfig =
  | { readonly kind: 'iid' }
  | { readonly kind: 'dirichlet'; readonly alpha: number }
  | { readonly kind: 'shards'; readonly shardsPerClient: number };

export interface JobConfig {
  readonly name: string;
  readonly data: {
    /** A directory with the four Fashion-MNIST IDX files; default: Debian's copy, else the bundled subset. */
    readonly dataDir?: string;
    /** Use the bundled subset even when the full data set is installed. */
    readonly subset: boolean;
  };
  readonly partition: PartitionConfig;
  readonly model: ModelName;
  /** Virtual clients; only the sampled ones are materialised in a round. */
  readonly clients: number;
  /** The most rounds to run. */
  readonly rounds: number;
  /** Stop after the first round whose centralized test accuracy reaches this (0-1). */
  readonly targetAccuracy?: number;
  readonly fit: {
    /** Fraction of clients sampled per round, at least `minClients`. */
    readonly fraction: number;
    readonly minClients: number;
    readonly epochs: number;
    readonly batchSize: number;
    readonly learningRate: number;
  };
  readonly evaluate: {
    /** Fraction of clients asked to evaluate on their own data per round (0: none). */
    readonly fraction: number;
    /** Evaluate the global model on the test set on the server after every round. */
    readonly centralized: boolean;
  };
  readonly strategy: {
    readonly name: StrategyName;
    /** The strategy's own options (e.g. proximalMu for fedprox, eta for fedadam). */
    readonly options: Readonly<Record<string, unknown>>;
  };
  /** Secure-aggregation options (`{}` = defaults), or false for plain aggregation. */
  readonly secureAggregation: SecAggOptions | false;
  /** Per round, each sampled client vanishes with this probability after the given stage. */
  readonly dropout: { readonly probability: number; readonly stage: Stage | 'fit' };
  readonly seed: number;
  /** A client that has not answered a fit, evaluate or protocol stage within this is dropped. */
  readonly roundTimeoutMs: number;
  /** Worker threads training clients; default: every core. */
  readonly workers?: number;
}

/** A config as written: everything but the model may be left out. */
export type JobConfigInput = DeepPartial<JobConfig>;
type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[]
    ? T[K]
    : T[K] extends object
      ? DeepPartial<T[K]>
      : T[K];
};

/** Identity, for config modules: `export default defineConfig({ … })` gets type checking. */
export const defineConfig = (config: JobConfigInput): JobConfigInput => config;

/** The default job (`npm start`): the bundled subset, 100 clients, 10 a round, FedAvg + SecAgg+. */
export const DEFAULT_CONFIG: JobConfig = {
  name: 'fashion-mnist-fedavg-secagg',
  data: { subset: true },
  partition: { kind: 'iid' },
  model: 'mlp',
  clients: 100,
  rounds: 30,
  targetAccuracy: 0.8,
  fit: { fraction: 0.1, minClients: 2, epochs: 5, batchSize: 10, learningRate: 0.05 },
  evaluate: { fraction: 0, centralized: true },
  strategy: { name: 'fedavg', options: {} },
  // SecAgg+ proper: each of the 10 sampled clients shares its secrets with, and masks against,
  // 4 ring neighbours (threshold 3), not all 9 (the library default, shareNum = sampled clients
  // up to 51, is the complete SecAgg graph). The 4-regular ring stays connected with any 3
  // clients gone, and a client costs half the key agreements and mask streams.
  secureAggregation: { shareNum: 5 },
  dropout: { probability: 0, stage: 'fit' },
  seed: 1,
  roundTimeoutMs: 120_000,
};

type Fields = Record<string, unknown>;

function object(value: unknown, path: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path, `expected an object, got ${describe(value)}`);
  }
  return value as Fields;
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : JSON.stringify(value);
}

function onlyKnown(fields: Fields, known: readonly string[], path: string): void {
  for (const key of Object.keys(fields)) {
    if (!known.includes(key)) {
      throw new ConfigError(
        path === '' ? key : `${path}.${key}`,
        `unknown field; expected one of ${known.join(', ')}`,
      );
    }
  }
}

function number(
  value: unknown,
  fallback: number,
  path: string,
  check: { min?: number; max?: number; integer?: boolean; above?: number },
): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (check.integer !== true || Number.isInteger(value)) &&
    (check.min === undefined || value >= check.min) &&
    (check.max === undefined || value <= check.max) &&
    (check.above === undefined || value > check.above);
  if (!ok) {
    const bounds = [
      check.integer === true ? 'an integer' : 'a number',
      check.min !== undefined ? `>= ${check.min}` : '',
      check.above !== undefined ? `> ${check.above}` : '',
      check.max !== undefined ? `<= ${check.max}` : '',
    ].filter((part) => part !== '');
    throw new ConfigError(path, `expected ${bounds.join(' ')}, got ${describe(value)}`);
  }
  return value;
}

function oneOf<T extends string>(
  value: unknown,
  fallback: T,
  allowed: readonly T[],
  path: string,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigError(path, `expected one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function boolean(value: unknown, fallback: boolean, path: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(path, `expected true or false`);
  return value;
}

function partitionOf(value: unknown): PartitionConfig {
  if (value === undefined) return DEFAULT_CONFIG.partition;
  const fields = object(value, 'partition');
  const kind = oneOf(fields['kind'], 'iid', ['iid', 'dirichlet', 'shards'], 'partition.kind');
  switch (kind) {
    case 'iid':
      onlyKnown(fields, ['kind'], 'partition');
      return { kind };
    case 'dirichlet':
      onlyKnown(fields, ['kind', 'alpha'], 'partition');
      return { kind, alpha: number(fields['alpha'], 0.5, 'partition.alpha', { above: 0 }) };
    case 'shards':
      onlyKnown(fields, ['kind', 'shardsPerClient'], 'partition');
      return {
        kind,
        shardsPerClient: number(fields['shardsPerClient'], 2, 'partition.shardsPerClient', {
          integer: true,
          min: 1,
        }),
      };
  }
}

/** Validates a config as written and fills in the defaults. */
export function resolveConfig(input: unknown): JobConfig {
  const d = DEFAULT_CONFIG;
  const root = object(input ?? {}, 'config');
  onlyKnown(root, Object.keys(d).concat('targetAccuracy', 'workers'), '');
  const data = object(root['data'] ?? {}, 'data');
  onlyKnown(data, ['dataDir', 'subset'], 'data');
  const fit = object(root['fit'] ?? {}, 'fit');
  onlyKnown(fit, Object.keys(d.fit), 'fit');
  const evaluate = object(root['evaluate'] ?? {}, 'evaluate');
  onlyKnown(evaluate, Object.keys(d.evaluate), 'evaluate');
  const strategy = object(root['strategy'] ?? {}, 'strategy');
  onlyKnown(strategy, ['name', 'options'], 'strategy');
  const dropout = object(root['dropout'] ?? {}, 'dropout');
  onlyKnown(dropout, ['probability', 'stage'], 'dropout');

  const dataDir = data['dataDir'];
  if (dataDir !== undefined && typeof dataDir !== 'string') {
    throw new ConfigError('data.dataDir', `expected a directory path, got ${describe(dataDir)}`);
  }
  const name = root['name'] ?? d.name;
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError('name', `expected a non-empty string, got ${describe(name)}`);
  }
  const secure = root['secureAggregation'];
  const clients = number(root['clients'], d.clients, 'clients', { integer: true, min: 1 });
  const runsEveryRound = root['targetAccuracy'] === undefined && root['rounds'] !== undefined;
  const resolved: JobConfig = {
    name,
    data: {
      ...(dataDir === undefined ? {} : { dataDir }),
      subset: boolean(data['subset'], dataDir === undefined ? d.data.subset : false, 'data.subset'),
    },
    partition: partitionOf(root['partition']),
    model: oneOf(root['model'], d.model, MODEL_NAMES, 'model'),
    clients,
    rounds: number(root['rounds'], d.rounds, 'rounds', { integer: true, min: 1 }),
    fit: {
      fraction: number(fit['fraction'], d.fit.fraction, 'fit.fraction', { above: 0, max: 1 }),
      minClients: number(fit['minClients'], d.fit.minClients, 'fit.minClients', {
        integer: true,
        min: 1,
        max: clients,
      }),
      epochs: number(fit['epochs'], d.fit.epochs, 'fit.epochs', { integer: true, min: 1 }),
      batchSize: number(fit['batchSize'], d.fit.batchSize, 'fit.batchSize', {
        integer: true,
        min: 1,
      }),
      learningRate: number(fit['learningRate'], d.fit.learningRate, 'fit.learningRate', {
        above: 0,
      }),
    },
    evaluate: {
      fraction: number(evaluate['fraction'], d.evaluate.fraction, 'evaluate.fraction', {
        min: 0,
        max: 1,
      }),
      centralized: boolean(evaluate['centralized'], d.evaluate.centralized, 'evaluate.centralized'),
    },
    strategy: {
      name: oneOf(strategy['name'], d.strategy.name, STRATEGY_NAMES, 'strategy.name'),
      options: object(strategy['options'] ?? {}, 'strategy.options'),
    },
    secureAggregation:
      secure === undefined
        ? d.secureAggregation
        : secure === false
          ? false
          : (object(secure, 'secureAggregation') as SecAggOptions),
    dropout: {
      probability: number(dropout['probability'], d.dropout.probability, 'dropout.probability', {
        min: 0,
        max: 1,
      }),
      stage: oneOf(dropout['stage'], d.dropout.stage, ['fit', ...STAGES], 'dropout.stage'),
    },
    seed: number(root['seed'], d.seed, 'seed', { integer: true, min: 0 }),
    roundTimeoutMs: number(root['roundTimeoutMs'], d.roundTimeoutMs, 'roundTimeoutMs', {
      above: 0,
    }),
    // A config that sets its own round count without a target runs every round it asked for.
    ...(runsEveryRound
      ? {}
      : {
          targetAccuracy: number(root['targetAccuracy'], d.targetAccuracy ?? 1, 'targetAccuracy', {
            above: 0,
            max: 1,
          }),
        }),
    ...(root['workers'] === undefined
      ? {}
      : { workers: number(root['workers'], 1, 'workers', { integer: true, min: 1 }) }),
  };
  return resolved;
}
