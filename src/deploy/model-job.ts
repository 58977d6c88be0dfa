/**
 * The config's own model as a deployed job: each node trains its Fashion-MNIST partition with
 * TensorFlow.js in its own process, and the server evaluates the global model on the test set.
 * Nodes derive their partition exactly as `sepal simulate` does (same data, partitioner and seed),
 * so partition i of a deployment holds the examples of virtual client i of a simulation.
 */
import { loadFashionMnist } from '../data/fashion-mnist.js';
import type { ImageDataset } from '../data/dataset.js';
import { partitionDataset } from '../data/partition.js';
import type { Client } from '../fl/client.js';
import type { Parameters } from '../fl/parameters.js';
import { initialParameters } from '../models/architectures.js';
import { useBackend } from '../models/tf.js';
import { Trainer } from '../models/trainer.js';
import type { JobConfig } from '../sim/config.js';
import { fitConfigOf } from '../sim/fit-config.js';
import { createStrategy } from '../sim/strategy-factory.js';
import type { DeployJob } from './job.js';

async function loadData(config: JobConfig) {
  await useBackend();
  return loadFashionMnist({
    ...(config.data.dataDir !== undefined && { dataDir: config.data.dataDir }),
    subset: config.data.subset,
  });
}

const allOf = (dataset: ImageDataset) => Uint32Array.from({ length: dataset.count }, (_, i) => i);

export function modelJob(config: JobConfig): DeployJob {
  return {
    async strategy() {
      const data = await loadData(config);
      const trainer = new Trainer(config.model, data.test, config.seed);
      const test = { dataset: data.test, indices: allOf(data.test) };
      return createStrategy(config, {
        seed: config.seed,
        minAvailableClients: config.fit.minClients,
        initialParameters: initialParameters(config.model, data.train, config.seed),
        ...(config.evaluate.centralized && {
          evaluateFn: async (_round: number, parameters: Parameters) => {
            const result = await trainer.evaluate(parameters, test);
            return { loss: result.loss, metrics: { ...result.metrics } };
          },
        }),
      });
    },

    async client(partition) {
      if (!Number.isInteger(partition) || partition < 0 || partition >= config.clients) {
        throw new RangeError(
          `partition must be an integer in [0, ${config.clients - 1}] (the job's clients), got ${partition}`,
        );
      }
      const data = await loadData(config);
      const partitions = partitionDataset(
        config.partition,
        data.train.labels,
        data.train.classes,
        config.clients,
        config.seed,
      );
      const examples = { dataset: data.train, indices: partitions[partition] as Uint32Array };
      const trainer = new Trainer(config.model, data.train, config.seed);
      const id = `client-${partition + 1}`;
      const client: Client = {
        getParameters: async () => trainer.parameters(),
        async fit(parameters, fitConfig) {
          const round = String(fitConfig['round'] ?? 0);
          const result = await trainer.fit(
            parameters,
            examples,
            fitConfigOf(fitConfig, `${round}/${id}`),
          );
          return { ...result, metrics: { ...result.metrics } };
        },
        async evaluate(parameters) {
          const result = await trainer.evaluate(parameters, examples);
          return {
            loss: result.loss,
            numExamples: result.numExamples,
            metrics: { ...result.metrics },
          };
        },
      };
      return client;
    },
  };
}
