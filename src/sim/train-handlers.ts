/**
 * The worker side of training: a handler module (see runtime/task-protocol.ts) serving `fit` and
 * `evaluate` for virtual clients. Each worker builds one model and reuses it for every task; the
 * datasets arrive once, in shared memory, and a task names its examples by index.
 */
import type { TransferListItem } from 'node:worker_threads';
import type { ImageDataset } from '../data/dataset.js';
import type { Parameters } from '../fl/parameters.js';
import type { ModelKind } from '../models/architectures.js';
import { useBackend, type BackendName } from '../models/tf.js';
import { Trainer, type EvaluateResult, type FitConfig, type FitResult } from '../models/trainer.js';
import type { CreateHandlers, TaskReply } from '../runtime/task-protocol.js';

/** The pool config entry these handlers read. */
export const TRAINING_CONFIG_KEY = 'training';

export interface TrainingWorkerConfig {
  /** Shared-memory datasets (see shareDataset), so that every worker reads the same copy. */
  readonly train: ImageDataset;
  readonly test?: ImageDataset;
  readonly model: ModelKind;
  /** Default: DEFAULT_BACKEND (src/models/tf.ts). */
  readonly backend?: BackendName;
}

export interface FitTask {
  readonly clientId: string;
  /** The client's examples: indices into the training set. */
  readonly indices: Uint32Array;
  readonly parameters: Parameters;
  readonly config: FitConfig;
}

export interface EvaluateTask {
  readonly clientId: string;
  readonly split: 'train' | 'test';
  /** Indices into the split; absent: all of it. */
  readonly indices?: Uint32Array;
  readonly parameters: Parameters;
}

export const createHandlers: CreateHandlers = async (config) => {
  const { train, test, model, backend } = config[TRAINING_CONFIG_KEY] as TrainingWorkerConfig;
  await useBackend(backend);
  const trainer = new Trainer(model, train);
  const dataset = (split: 'train' | 'test') => {
    const chosen = split === 'train' ? train : test;
    if (chosen === undefined) throw new Error('the pool was started without a test set');
    return chosen;
  };
  return {
    fit: async (task: FitTask): Promise<TaskReply<FitResult>> => {
      const result = await trainer.fit(
        task.parameters,
        { dataset: train, indices: task.indices },
        task.config,
      );
      // Each tensor has its own buffer (getModelParameters copies), so all can move.
      const transfer = result.parameters.map((t) => t.values.buffer as TransferListItem);
      return { value: result, transfer };
    },
    evaluate: async (task: EvaluateTask): Promise<TaskReply<EvaluateResult>> => {
      const data = dataset(task.split);
      const indices = task.indices ?? Uint32Array.from({ length: data.count }, (_, i) => i);
      return { value: await trainer.evaluate(task.parameters, { dataset: data, indices }) };
    },
  };
};
