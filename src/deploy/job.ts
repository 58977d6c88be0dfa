/**
 * What the deployment needs of a job config (src/sim/config.ts, shared with `sepal simulate`):
 * the server's Strategy and each node's Client. The strategy is built exactly as the simulator
 * builds it (src/sim/strategy-factory.ts), so one config means one algorithm either way.
 */
import type { Client } from '../fl/client.js';
import type { Parameters } from '../fl/parameters.js';
import type { Strategy } from '../fl/strategy/strategy.js';
import type { JobConfig } from '../sim/config.js';
import { createStrategy } from '../sim/strategy-factory.js';

/**
 * The config's strategy. Its sampling minimum is also the number of nodes a round needs, and
 * nodes are sampled reproducibly from the config's seed.
 */
export const strategyOf = (config: JobConfig, initialParameters?: Parameters): Strategy =>
  createStrategy(config, {
    seed: config.seed,
    minAvailableClients: config.fit.minClients,
    ...(initialParameters === undefined ? {} : { initialParameters }),
  });

/** The two sides of a job: what `sepal server` and `sepal client` run. */
export interface DeployJob {
  /** The server's strategy, with the job's initial parameters when it has them. */
  strategy(): Promise<Strategy>;
  /** The client of data partition `partition` (0-based, below config.clients). */
  client(partition: number): Promise<Client>;
}
