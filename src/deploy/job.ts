/**
 * What the deployment needs of a job config (src/sim/config.ts, shared with `sepal simulate`):
 * the server's Strategy and each node's Client. The job's model is either the config's (data,
 * partition and TensorFlow.js model, built by the simulation's own factory) or a synthetic
 * stand-in (synthetic.ts) for load tests and exact end-to-end checks.
 */
import type { Client } from '../fl/client.js';
import type { Parameters } from '../fl/parameters.js';
import {
  FedAdagrad,
  FedAdam,
  FedAvg,
  FedAvgM,
  FedMedian,
  FedProx,
  FedTrimmedAvg,
  FedYogi,
  Krum,
  type StrategyOptions,
} from '../fl/index.js';
import type { Strategy } from '../fl/strategy/strategy.js';
import type { JobConfig, StrategyName } from '../sim/config.js';

/**
 * The built-in strategies by config name. Each constructor validates its own options (the
 * config's `strategy.options` are untyped JSON) and names any that is wrong.
 */
const STRATEGIES: Record<StrategyName, new (options: never) => Strategy> = {
  fedavg: FedAvg,
  fedprox: FedProx,
  fedavgm: FedAvgM,
  fedadagrad: FedAdagrad,
  fedadam: FedAdam,
  fedyogi: FedYogi,
  fedmedian: FedMedian,
  fedtrimmedavg: FedTrimmedAvg,
  krum: Krum,
};

/**
 * The config's strategy. Its sampling minimum is also the number of nodes a round needs, and
 * nodes are sampled reproducibly from the config's seed.
 */
export function strategyOf(config: JobConfig, initialParameters?: Parameters): Strategy {
  const { fit, evaluate, strategy, secureAggregation, seed } = config;
  const Strategy = STRATEGIES[strategy.name];
  const options: StrategyOptions = {
    ...strategy.options,
    fractionFit: fit.fraction,
    minFitClients: fit.minClients,
    minAvailableClients: fit.minClients,
    fractionEvaluate: evaluate.fraction,
    minEvaluateClients: evaluate.fraction > 0 ? 1 : 0,
    onFitConfig: () => ({
      epochs: fit.epochs,
      batchSize: fit.batchSize,
      learningRate: fit.learningRate,
    }),
    seed,
    ...(secureAggregation === false ? {} : { secureAggregation }),
    ...(initialParameters === undefined ? {} : { initialParameters }),
  };
  return new Strategy(options as never);
}

/** The two sides of a job: what `sepal server` and `sepal client` run. */
export interface DeployJob {
  /** The server's strategy, with the job's initial parameters when it has them. */
  strategy(): Promise<Strategy>;
  /** The client of data partition `partition` (0-based, below config.clients). */
  client(partition: number): Promise<Client>;
}
