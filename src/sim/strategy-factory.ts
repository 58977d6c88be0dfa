/**
 * Builds the strategy a job config names. The strategy's own options come from
 * `strategy.options` in the config; the framework fills in sampling, secure aggregation, the
 * initial parameters, centralized evaluation and each round's fit config. Unknown or invalid
 * strategy options are refused by the strategy itself, with a ConfigError naming the option.
 */
import type { Config } from '../fl/client.js';
import { ConfigError } from '../fl/errors.js';
import type { StrategyOptions } from '../fl/strategy/base.js';
import { FedAvg } from '../fl/strategy/fedavg.js';
import { FedAvgM } from '../fl/strategy/fedavgm.js';
import { FedMedian } from '../fl/strategy/fedmedian.js';
import { FedAdagrad, FedAdam, FedYogi } from '../fl/strategy/fedopt.js';
import { FedProx } from '../fl/strategy/fedprox.js';
import { FedTrimmedAvg } from '../fl/strategy/fedtrimmedavg.js';
import { Krum } from '../fl/strategy/krum.js';
import type { Strategy } from '../fl/strategy/strategy.js';
import type { JobConfig, StrategyName } from './config.js';

/** What the framework supplies to every strategy; the config supplies the rest. */
export type FrameworkOptions = Pick<
  StrategyOptions,
  'initialParameters' | 'evaluateFn' | 'seed' | 'minAvailableClients'
>;

type Options = StrategyOptions & Readonly<Record<string, unknown>>;
type Constructor = (options: Options, clientRate: number) => Strategy;

/**
 * The FedOpt family sends the clients' learning rate as `etaL` in every fit config; unless the
 * strategy options set it, it is the job's `fit.learningRate`, so one field means one thing.
 */
const withClientRate = (o: Options, clientRate: number): Options =>
  o['etaL'] === undefined ? { ...o, etaL: clientRate } : o;

const CONSTRUCTORS: Record<StrategyName, Constructor> = {
  fedavg: (o) => new FedAvg(o),
  // A missing or invalid proximalMu is refused by FedProx, by name.
  fedprox: (o) => new FedProx({ ...o, proximalMu: o['proximalMu'] as number }),
  fedavgm: (o) => new FedAvgM(o),
  fedadagrad: (o, rate) => new FedAdagrad(withClientRate(o, rate)),
  fedadam: (o, rate) => new FedAdam(withClientRate(o, rate)),
  fedyogi: (o, rate) => new FedYogi(withClientRate(o, rate)),
  fedmedian: (o) => new FedMedian(o),
  fedtrimmedavg: (o) => new FedTrimmedAvg(o),
  krum: (o) => new Krum(o),
};

/** Options the config sets through its own fields, so `strategy.options` may not repeat them. */
const OWNED_BY_CONFIG = [
  'fractionFit',
  'minFitClients',
  'fractionEvaluate',
  'minEvaluateClients',
  'secureAggregation',
  'initialParameters',
  'evaluateFn',
  'onFitConfig',
  'onEvaluateConfig',
  'seed',
];

export function createStrategy(config: JobConfig, framework: FrameworkOptions): Strategy {
  for (const key of Object.keys(config.strategy.options)) {
    if (OWNED_BY_CONFIG.includes(key)) {
      throw new ConfigError(
        `strategy.options.${key}`,
        'is set by the job config itself (fit, evaluate, secureAggregation, seed)',
      );
    }
  }
  const fitConfig: Config = {
    epochs: config.fit.epochs,
    batchSize: config.fit.batchSize,
    learningRate: config.fit.learningRate,
  };
  return CONSTRUCTORS[config.strategy.name](
    {
      ...config.strategy.options,
      ...framework,
      fractionFit: config.fit.fraction,
      minFitClients: config.fit.minClients,
      fractionEvaluate: config.evaluate.fraction,
      minEvaluateClients: config.evaluate.fraction > 0 ? 1 : 0,
      ...(config.secureAggregation === false
        ? {}
        : { secureAggregation: config.secureAggregation }),
      // The strategy adds its own keys (FedProx's proximalMu, FedOpt's etaL) to this.
      onFitConfig: (round) => ({ ...fitConfig, round }),
    },
    config.fit.learningRate,
  );
}
