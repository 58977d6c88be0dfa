/**
 * The simulation engine: a whole federated job in one process. Virtual clients own partitions of
 * Fashion-MNIST; the sampled ones train on a pool of worker threads (one per core); the server
 * loop, the strategy and secure aggregation are the same code a deployment runs. Only the
 * sampled clients' data is ever touched in a round, so thousands of virtual clients cost little
 * more than their index lists.
 *
 * Dropout injection is reproducible: whether client c vanishes in round r is drawn from a stream
 * seeded by (seed, r, c), so the same seed drops the same clients at the same stage.
 */
import { seededRandom, type RandomSource } from '../crypto/random.js';
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { partitionDataset } from '../data/partition.js';
import { uniform } from '../data/sampling.js';
import type { CheckpointStore } from '../fl/checkpoint.js';
import type { Client } from '../fl/client.js';
import type { ServerEvent } from '../fl/events.js';
import type { History } from '../fl/history.js';
import { localProxy } from '../fl/local-proxy.js';
import type { Parameters } from '../fl/parameters.js';
import { runServer } from '../fl/server.js';
import { initialParameters as initialModelParameters } from '../models/architectures.js';
import { useBackend } from '../models/tf.js';
import type { Stage } from '../secagg/stages.js';
import type { JobConfig } from './config.js';
import { fitConfigOf } from './fit-config.js';
import { createStrategy } from './strategy-factory.js';
import { TrainingPool } from './train-pool.js';

export interface SimulationOptions {
  readonly config: JobConfig;
  readonly onEvent?: (event: ServerEvent) => void;
  /** Resume from / checkpoint to this store. */
  readonly checkpoint?: CheckpointStore;
}

export interface SimulationResult {
  readonly history: History;
  readonly parameters: Parameters;
  /** Where the data came from (a directory), for the report. */
  readonly dataSource: string;
  readonly trainExamples: number;
  readonly testExamples: number;
}

/** A client vanishing mid-round, as the simulator injects it. */
export class SimulatedDropout extends Error {
  override name = 'SimulatedDropout';
}

/** A virtual client: its partition's indices, trained on the pool when sampled. */
function virtualClient(
  pool: TrainingPool,
  clientId: string,
  indices: Uint32Array,
  vanishesInFit: (round: number) => boolean,
): Client {
  return {
    getParameters: () =>
      Promise.reject(new Error('virtual clients do not hold parameters of their own')),
    async fit(parameters, config) {
      const round = Number(config['round'] ?? 0);
      if (vanishesInFit(round)) throw new SimulatedDropout(`${clientId} vanished during fit`);
      const result = await pool.fit({
        clientId,
        indices,
        parameters,
        config: fitConfigOf(config, `${round}/${clientId}`),
      });
      return { ...result, metrics: { ...result.metrics } };
    },
    async evaluate(parameters) {
      const result = await pool.evaluate({ clientId, split: 'train', indices, parameters });
      return {
        loss: result.loss,
        numExamples: result.numExamples,
        metrics: { ...result.metrics },
      };
    },
  };
}

/** Clients sampled a round: the strategy's rule, fraction of all clients but at least the minimum. */
const sampledPerRound = (config: JobConfig): number =>
  Math.max(config.fit.minClients, Math.floor(config.fit.fraction * config.clients));

/** Whether a client vanishes in a round (after the configured stage), drawn reproducibly. */
function dropoutPlan(config: JobConfig): (round: number, clientId: string) => boolean {
  const { probability } = config.dropout;
  return (round, clientId) =>
    probability > 0 &&
    uniform(seededRandom(config.seed, `sepal/sim/dropout/${round}/${clientId}`)) < probability;
}

export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const { config } = options;
  const data = await loadFashionMnist({
    ...(config.data.dataDir !== undefined && { dataDir: config.data.dataDir }),
    subset: config.data.subset,
  });
  const partition = partitionDataset(
    config.partition,
    data.train.labels,
    data.train.classes,
    config.clients,
    config.seed,
  );
  const pool = await TrainingPool.start({
    train: data.train,
    test: data.test,
    model: config.model,
    ...(config.workers !== undefined && { size: config.workers }),
  });
  try {
    const drops = dropoutPlan(config);
    const stage = config.dropout.stage;
    const clients = partition.map((indices, i) => {
      const id = `client-${i + 1}`;
      const random: RandomSource = seededRandom(config.seed, `sepal/sim/secagg/${id}`);
      return localProxy(
        id,
        virtualClient(pool, id, indices, (round) => stage === 'fit' && drops(round, id)),
        {
          random,
          vanishAfter: (round): Stage | undefined =>
            stage !== 'fit' && drops(round, id) ? stage : undefined,
        },
      );
    });
    // The round-0 model is made here, so this thread needs a ready tfjs backend too.
    await useBackend();
    const strategy = createStrategy(config, {
      initialParameters: initialModelParameters(config.model, data.train, config.seed),
      seed: config.seed,
      ...(config.evaluate.centralized && {
        evaluateFn: async (_round: number, parameters: Parameters) => {
          const result = await pool.evaluate({ clientId: 'server', split: 'test', parameters });
          return { loss: result.loss, metrics: { ...result.metrics } };
        },
      }),
    });
    const target = config.targetAccuracy;
    const { history, parameters } = await runServer({
      strategy,
      clients,
      numRounds: config.rounds,
      // Simulated clients queue for the pool's workers; the deadline is for one client's work,
      // so a fit phase gets it once per wave of workers. SecAgg stages keep the plain deadline.
      roundTimeoutMs: config.roundTimeoutMs * Math.ceil(sampledPerRound(config) / pool.size),
      secAggStageTimeoutMs: config.roundTimeoutMs,
      random: seededRandom(config.seed, 'sepal/sim/server'),
      ...(options.onEvent !== undefined && { onEvent: options.onEvent }),
      ...(options.checkpoint !== undefined && { checkpoint: options.checkpoint }),
      ...(target !== undefined && {
        stopWhen: (record) => (record.centralized?.accuracy ?? 0) >= target,
      }),
    });
    return {
      history,
      parameters,
      dataSource: data.source,
      trainExamples: data.train.count,
      testExamples: data.test.count,
    };
  } finally {
    await pool.close();
  }
}
