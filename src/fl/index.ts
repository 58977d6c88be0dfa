/**
 * The federated-learning core: isomorphic (Node and browsers), independent of any ML library.
 * The file-backed checkpoint store is Node-only and imported from './checkpoint-file.js'.
 */
export * from './arithmetic.js';
export * from './checkpoint.js';
export * from './client.js';
export { ClientHost, type ClientHostOptions } from './client-host.js';
export * from './errors.js';
export type * from './events.js';
export type * from './history.js';
export { localProxy, type LocalProxyOptions } from './local-proxy.js';
export * from './metrics.js';
export * from './parameters.js';
export { runServer, type RunResult, type ServerOptions } from './server.js';
export type * from './strategy/strategy.js';
export { BaseStrategy, type CentralizedEvaluation, type StrategyOptions } from './strategy/base.js';
export { FedAvg, type FedAvgOptions } from './strategy/fedavg.js';
export { FedProx, type FedProxOptions } from './strategy/fedprox.js';
export { FedAvgM, type FedAvgMOptions } from './strategy/fedavgm.js';
export {
  FedOpt,
  FedAdagrad,
  FedAdam,
  FedYogi,
  type FedOptOptions,
  type MomentOptions,
} from './strategy/fedopt.js';
export { FedMedian } from './strategy/fedmedian.js';
export { FedTrimmedAvg, type FedTrimmedAvgOptions } from './strategy/fedtrimmedavg.js';
export { Krum, type KrumOptions } from './strategy/krum.js';
export { RobustStrategy } from './strategy/robust.js';
