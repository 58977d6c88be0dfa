/**
 * A synthetic job: the config's strategy, rounds and secure aggregation with a stand-in model of
 * `dim` float parameters and no training. Partition p's fit moves the parameters by a fixed
 * update Δp with weight p + 1, so the server's new parameters after a FedAvg round are exactly
 * predictable (the old ones plus Σ wp·Δp / Σ wp over the nodes aggregated): what load tests and
 * end-to-end checks of the networked loop need, at a cost of microseconds per node.
 *
 * Δp's entries are multiples of 1/4 in [-1.25, 1.25], which lie on SecAgg's quantization grid
 * whenever (targetRange - 1) / (2 · clippingRange) is a multiple of 4.
 */
import type { Client } from '../fl/client.js';
import type { Parameters } from '../fl/parameters.js';
import type { JobConfig } from '../sim/config.js';
import { strategyOf, type DeployJob } from './job.js';

export const SYNTHETIC_TENSOR = 'synthetic';

/** Entry j of partition p's update. */
export const syntheticUpdate = (partition: number, j: number): number =>
  (((partition * 7 + j) % 11) - 5) / 4;

export const syntheticWeight = (partition: number): number => partition + 1;

const zeros = (dim: number): Parameters => [
  { name: SYNTHETIC_TENSOR, shape: [dim], values: new Float32Array(dim) },
];

export function syntheticClient(partition: number, dim: number): Client {
  return {
    getParameters: async () => zeros(dim),
    fit: async (parameters) => {
      const values = (parameters[0]?.values ?? new Float32Array(dim)).slice();
      for (let j = 0; j < values.length; j++) {
        values[j] = (values[j] as number) + syntheticUpdate(partition, j);
      }
      return {
        parameters: [{ name: SYNTHETIC_TENSOR, shape: [values.length], values }],
        numExamples: syntheticWeight(partition),
        metrics: {},
      };
    },
    evaluate: async (parameters) => {
      const values = parameters[0]?.values ?? new Float32Array(0);
      const loss = values.reduce((sum, v) => sum + v * v, 0) / Math.max(1, values.length);
      return { loss, numExamples: syntheticWeight(partition), metrics: {} };
    },
  };
}

export function syntheticJob(config: JobConfig, dim: number): DeployJob {
  return {
    strategy: async () => strategyOf(config, zeros(dim)),
    client: async (partition) => syntheticClient(partition, dim),
  };
}
