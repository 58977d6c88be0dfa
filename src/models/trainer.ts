/**
 * Local training and evaluation of one model on some examples: what a federated client does with
 * the global parameters it receives. Plain minibatch SGD with a fresh optimizer per call, as in
 * FedAvg (McMahan et al., 2017); with `proximalMu > 0` the loss gains FedProx's proximal term
 * mu/2 * ||w - w_global||^2 (Li et al., 2020), which keeps local weights near the global ones.
 */
import type { Parameters } from '../fl/parameters.js';
import { seededRandom, shuffle } from '../crypto/random.js';
import { createModel, type ImageShape, type ModelKind } from './architectures.js';
import { checkIndices, makeBatch, type ExampleSet } from './batches.js';
import { tf } from './tf.js';
import { getModelParameters, setModelParameters } from './weights.js';

export interface FitConfig {
  /** Passes over the examples (integer >= 1). */
  readonly epochs: number;
  /** Examples per SGD step (integer >= 1; the last batch of an epoch may be smaller). */
  readonly batchSize: number;
  readonly learningRate: number;
  /** FedProx's mu; 0 or absent is FedAvg. */
  readonly proximalMu?: number;
  /**
   * Seeds the per-epoch shuffles, so a run replays exactly; the simulator derives it from round
   * and client. Not security-relevant. Default 0.
   */
  readonly seed?: string | number;
}

export interface FitResult {
  readonly parameters: Parameters;
  readonly numExamples: number;
  /** Mean cross-entropy and accuracy over the last epoch's batches, before each step. */
  readonly metrics: { readonly loss: number; readonly accuracy: number };
}

export interface EvaluateResult {
  /** Mean cross-entropy. */
  readonly loss: number;
  readonly numExamples: number;
  readonly metrics: { readonly accuracy: number };
}

const EVALUATE_BATCH = 1000;
const YIELD_EVERY_MS = 100;

/** What every SGD step of one fit call shares. */
interface StepContext {
  readonly examples: ExampleSet;
  readonly optimizer: tf.Optimizer;
  readonly variables: tf.Variable[];
  /** The global weights for the proximal term; empty when mu is 0. */
  readonly anchor: tf.Tensor[];
  readonly mu: number;
}

/** Owns one model instance and reuses it for every fit and evaluate call. */
export class Trainer {
  readonly model: tf.Sequential;

  constructor(
    readonly kind: ModelKind,
    readonly shape: ImageShape,
    seed = 0,
  ) {
    this.model = createModel(kind, shape, seed);
  }

  /** The model's current weights: its seeded initial ones until a fit or evaluate loads others. */
  parameters(): Parameters {
    return getModelParameters(this.model);
  }

  async fit(parameters: Parameters, examples: ExampleSet, config: FitConfig): Promise<FitResult> {
    checkFitConfig(config);
    this.checkExamples(examples);
    setModelParameters(this.model, parameters);
    const { epochs, batchSize, learningRate, proximalMu = 0 } = config;
    const variables = this.model.trainableWeights.map((weight) => weight.read() as tf.Variable);
    // w_global, fixed for the whole call; the proximal term pulls the variables toward it.
    const anchor = proximalMu > 0 ? variables.map((v) => tf.clone(v)) : [];
    const optimizer = tf.train.sgd(learningRate);
    const random = seededRandom(config.seed ?? 0, 'sepal/models/fit-shuffle');
    const run: StepContext = { examples, optimizer, variables, anchor, mu: proximalMu };
    const count = examples.indices.length;
    let lossSum = 0;
    let correct = 0;
    let yieldedAt = performance.now();
    try {
      for (let epoch = 0; epoch < epochs; epoch++) {
        const order = shuffle(Array.from(examples.indices), random);
        lossSum = 0;
        correct = 0;
        for (let start = 0; start < count; start += batchSize) {
          // Training runs on the caller's thread; letting the event loop turn now and then keeps
          // a deployed node's heartbeats and its transport alive through a long fit.
          if (performance.now() - yieldedAt > YIELD_EVERY_MS) {
            await new Promise((resolve) => setTimeout(resolve, 0));
            yieldedAt = performance.now();
          }
          const end = Math.min(count, start + batchSize);
          const step = this.step(run, order, start, end);
          lossSum += step.loss * (end - start);
          correct += step.correct;
        }
      }
    } finally {
      optimizer.dispose();
      tf.dispose(anchor);
    }
    return {
      parameters: getModelParameters(this.model),
      numExamples: count,
      metrics: { loss: lossSum / count, accuracy: correct / count },
    };
  }

  async evaluate(parameters: Parameters, examples: ExampleSet): Promise<EvaluateResult> {
    this.checkExamples(examples);
    setModelParameters(this.model, parameters);
    const count = examples.indices.length;
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < count; start += EVALUATE_BATCH) {
      const end = Math.min(count, start + EVALUATE_BATCH);
      const [loss, hits] = tf.tidy(() => {
        const { x, y } = makeBatch(examples.dataset, examples.indices, start, end);
        const logits = this.model.apply(x, { training: false }) as tf.Tensor2D;
        const labels = tf.oneHot(y, this.shape.classes);
        const sum = tf.losses.softmaxCrossEntropy(labels, logits, undefined, 0, tf.Reduction.SUM);
        return [sum, countCorrect(logits, y)];
      });
      lossSum += (await loss.data())[0] as number;
      correct += (await hits.data())[0] as number;
      tf.dispose([loss, hits]);
    }
    return { loss: lossSum / count, numExamples: count, metrics: { accuracy: correct / count } };
  }

  dispose(): void {
    this.model.dispose();
  }

  /** One SGD step on order[start..end); returns the batch's mean cross-entropy and hit count. */
  private step(
    { examples, optimizer, variables, anchor, mu }: StepContext,
    order: ArrayLike<number>,
    start: number,
    end: number,
  ): { loss: number; correct: number } {
    // The outer tidy frees the batch, the gradients and the loss with the proximal term; the
    // cross-entropy and hit count are kept past it to be read, then freed below.
    const [crossEntropy, hits] = tf.tidy(() => {
      const { x, y } = makeBatch(examples.dataset, order, start, end);
      const kept: tf.Scalar[] = [];
      const { grads } = tf.variableGrads(() => {
        const logits = this.model.apply(x, { training: true }) as tf.Tensor2D;
        const labels = tf.oneHot(y, this.shape.classes);
        const ce = tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
        kept.push(tf.keep(ce), tf.keep(countCorrect(logits, y)));
        if (mu === 0) return ce;
        const distance = tf.addN(
          variables.map((v, i) => tf.sum(tf.squaredDifference(v, anchor[i] as tf.Tensor))),
        );
        return ce.add(distance.mul(mu / 2));
      }, variables);
      optimizer.applyGradients(grads);
      return kept as [tf.Scalar, tf.Scalar];
    });
    try {
      return {
        loss: crossEntropy.dataSync()[0] as number,
        correct: hits.dataSync()[0] as number,
      };
    } finally {
      tf.dispose([crossEntropy, hits]);
    }
  }

  private checkExamples(examples: ExampleSet): void {
    const { height, width, classes } = examples.dataset;
    if (
      height !== this.shape.height ||
      width !== this.shape.width ||
      classes !== this.shape.classes
    ) {
      throw new RangeError(
        `the ${this.kind} model takes ${this.shape.height}x${this.shape.width} images in ${this.shape.classes} classes, ` +
          `the dataset has ${height}x${width} in ${classes}`,
      );
    }
    if (examples.indices.length === 0) throw new RangeError('no examples to train or evaluate on');
    checkIndices(examples);
  }
}

function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32'));
}

function checkFitConfig(config: FitConfig): void {
  const positiveInteger = (name: 'epochs' | 'batchSize') => {
    if (!Number.isInteger(config[name]) || config[name] < 1) {
      throw new RangeError(`${name} must be an integer >= 1, got ${config[name]}`);
    }
  };
  positiveInteger('epochs');
  positiveInteger('batchSize');
  if (!(config.learningRate > 0)) {
    throw new RangeError(`learningRate must be > 0, got ${config.learningRate}`);
  }
  if (config.proximalMu !== undefined && !(config.proximalMu >= 0)) {
    throw new RangeError(`proximalMu must be >= 0, got ${config.proximalMu}`);
  }
}
