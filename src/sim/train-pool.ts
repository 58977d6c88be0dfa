/**
 * Training virtual clients on a WorkerPool: the typed face of the `fit` and `evaluate` handlers
 * (./train-handlers.ts). The simulator calls `fit` for each sampled client with the client's
 * partition indices; only those clients' batches are ever materialised, in the workers.
 */
import { shareDataset, type ImageDataset } from '../data/dataset.js';
import type { ModelKind } from '../models/architectures.js';
import type { BackendName } from '../models/tf.js';
import type { EvaluateResult, FitResult } from '../models/trainer.js';
import {
  TRAINING_CONFIG_KEY,
  type EvaluateTask,
  type FitTask,
  type TrainingWorkerConfig,
} from './train-handlers.js';
import { WorkerPool, type RunOptions } from '../runtime/worker-pool.js';
import { moduleBeside } from '../runtime/worker.js';

export type { EvaluateTask, FitTask } from './train-handlers.js';

export interface TrainingPoolOptions {
  readonly train: ImageDataset;
  readonly test?: ImageDataset;
  readonly model: ModelKind;
  /** Default: DEFAULT_BACKEND (src/models/tf.ts). */
  readonly backend?: BackendName;
  /** Worker threads; default os.availableParallelism(). */
  readonly size?: number;
  /** More handler modules for the same workers (e.g. SecAgg client steps), see `moduleBeside`. */
  readonly modules?: readonly string[];
  /** Config entries for those modules (the key 'training' is taken). */
  readonly config?: Readonly<Record<string, unknown>>;
}

export class TrainingPool {
  private constructor(private readonly pool: WorkerPool) {}

  static async start(options: TrainingPoolOptions): Promise<TrainingPool> {
    if (options.config !== undefined && TRAINING_CONFIG_KEY in options.config) {
      throw new RangeError(
        `config key '${TRAINING_CONFIG_KEY}' is reserved for the training handlers`,
      );
    }
    const training: TrainingWorkerConfig = {
      train: shareDataset(options.train),
      ...(options.test && { test: shareDataset(options.test) }),
      model: options.model,
      ...(options.backend && { backend: options.backend }),
    };
    const pool = await WorkerPool.start({
      modules: [moduleBeside(import.meta.url, 'train-handlers'), ...(options.modules ?? [])],
      config: { ...options.config, [TRAINING_CONFIG_KEY]: training },
      ...(options.size !== undefined && { size: options.size }),
    });
    return new TrainingPool(pool);
  }

  get size(): number {
    return this.pool.size;
  }

  /** Trains the client's model; rejects with a TaskFailedError naming the client. */
  fit(task: FitTask): Promise<FitResult> {
    return this.pool.run('fit', task, { label: `client ${task.clientId}` });
  }

  evaluate(task: EvaluateTask): Promise<EvaluateResult> {
    return this.pool.run('evaluate', task, { label: `client ${task.clientId}` });
  }

  /** Runs a task of another handler module loaded into the same workers. */
  run<R>(kind: string, payload: unknown, options?: RunOptions): Promise<R> {
    return this.pool.run(kind, payload, options);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
