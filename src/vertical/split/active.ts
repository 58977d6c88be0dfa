/**
 * The active party: labels, its own features, its own bottom model and the top model. Per step it
 * receives the passive party's embedding, computes the loss, updates its models and returns the
 * gradient of the loss with respect to the embedding (the cut layer).
 *
 * Its update for step k stays provisional until the passive party has applied the matching
 * gradient: the passive's embedding for step k + 1 acknowledges it (or the driver's `commit()`).
 * An abort for step k, a retry of step k, or the driver's `rollback()` (the passive timed out)
 * restore the state saved before step k, so both halves of the model always stand at the same
 * step.
 */
import { tf } from './tf.js';
import type { AbortMessage, EmbeddingMessage, GradientMessage, Matrix } from './messages.js';
import {
  activeLogits,
  batchLoss,
  firstNonFinite,
  gatherRows,
  outputWidth,
  trainableVariables,
} from './model.js';
import { addNoise } from './noise.js';
import { type PartyOptions, SplitParty } from './party.js';

export interface ActiveOptions extends PartyOptions {
  /** One class index per aligned row. */
  labels: ArrayLike<number>;
  classes: number;
  bottom: tf.LayersModel;
  top: tf.LayersModel;
}

// The cut-layer embedding enters the gradient computation as a variable of this name.
const EMBEDDING_VARIABLE = 'sepal_vertical_cut_layer';

export class ActiveParty extends SplitParty {
  readonly bottom: tf.LayersModel;
  readonly top: tf.LayersModel;
  readonly embeddingWidth: number;
  private readonly labels: ArrayLike<number>;
  private readonly classes: number;
  /** The step whose embedding is expected next. */
  private nextStep = 0;
  /** The step applied here whose gradient the passive party has not yet acknowledged. */
  private provisional: number | undefined;
  /** Loss of the last step computed (before its update). */
  lastLoss = NaN;

  constructor(options: ActiveOptions) {
    super(options, [options.bottom, options.top]);
    this.bottom = options.bottom;
    this.top = options.top;
    this.labels = options.labels;
    this.classes = options.classes;
    const topInputs = options.top.inputs[0]?.shape[1] ?? NaN;
    this.embeddingWidth = topInputs - outputWidth(options.bottom);
    if (options.labels.length !== options.features.rows) {
      this.inputError(`${options.labels.length} labels for ${options.features.rows} rows`);
    }
    const bad = Array.from(options.labels).findIndex(
      (label) => !Number.isInteger(label) || label < 0 || label >= options.classes,
    );
    if (bad >= 0) {
      this.inputError(
        `label ${options.labels[bad]} of row ${bad} is outside [0, ${options.classes})`,
      );
    }
  }

  private get model() {
    return { activeBottom: this.bottom, top: this.top };
  }

  /** The step awaiting acknowledgement, if any. */
  get pendingStep(): number | undefined {
    return this.provisional;
  }

  /** Steps whose updates are final here: the state a rollback returns to. */
  get committedSteps(): number {
    return this.provisional ?? this.nextStep;
  }

  async receive(message: EmbeddingMessage | AbortMessage): Promise<GradientMessage | undefined> {
    if (message.kind === 'abort') {
      if (message.step !== this.provisional && message.step !== this.nextStep) {
        this.peerError(`abort for step ${message.step}, which is not in progress`);
      }
      await this.rollback();
      return undefined;
    }
    if (message.step === this.provisional) {
      await this.rollback(); // a retry: the passive party never applied our gradient
    } else if (message.step !== this.nextStep) {
      this.peerError(`embedding for step ${message.step}, expected step ${this.nextStep}`);
    } else {
      this.commit(); // the passive moved on, so it applied the previous gradient
    }
    this.checkMatrix('embedding', message.step, message.embedding, this.embeddingWidth);
    return this.train(message.step, message.embedding);
  }

  /** Makes the provisional step final (the passive party confirmed it applied the gradient). */
  commit(): void {
    this.checkpoint.discard();
    this.provisional = undefined;
  }

  /** Undoes the provisional step, if any: the state is the last one both parties share. */
  async rollback(): Promise<void> {
    if (this.provisional === undefined) return;
    await this.checkpoint.restore();
    this.nextStep = this.provisional;
    this.provisional = undefined;
  }

  /** Predicted classes from embeddings and this party's features for the same rows. */
  predict(embedding: Matrix, features: Matrix): Int32Array {
    const rows = Array.from({ length: features.rows }, (_, i) => i);
    return tf.tidy(() => {
      const e = tf.tensor2d(embedding.data, [embedding.rows, embedding.cols]);
      return activeLogits(this.model, e, gatherRows(features, rows))
        .argMax(1)
        .dataSync() as Int32Array;
    });
  }

  private async train(step: number, embedding: Matrix): Promise<GradientMessage> {
    const rows = this.schedule.rows(step);
    const labels = rows.map((row) => this.labels[row] as number);
    const initial = tf.tensor2d(embedding.data, [embedding.rows, embedding.cols]);
    const e = tf.variable(initial, true, `${EMBEDDING_VARIABLE}_${this.name}`);
    initial.dispose(); // the variable keeps the data
    let cutGradient: Float32Array;
    try {
      const { value, grads } = tf.variableGrads(
        () =>
          batchLoss(
            activeLogits(this.model, e, gatherRows(this.features, rows)),
            labels,
            this.classes,
          ),
        [...trainableVariables(this.bottom, this.top), e],
      );
      try {
        const loss = value.dataSync()[0] as number;
        cutGradient = Float32Array.from((grads[e.name] as tf.Tensor).dataSync());
        if (!Number.isFinite(loss) || firstNonFinite(cutGradient) >= 0) {
          this.inputError(`loss or cut-layer gradient is not finite at step ${step}`);
        }
        const own = Object.fromEntries(Object.entries(grads).filter(([name]) => name !== e.name));
        await this.guardedUpdate(step, () => this.optimizer.applyGradients(own));
        this.lastLoss = loss;
      } finally {
        tf.dispose([value, grads]);
      }
    } finally {
      e.dispose();
    }
    // The loss is a batch mean, so each row of the gradient is 1/rows of that example's own:
    // noise of std σ/rows is σ on the per-example gradient, the same scale as on embeddings.
    addNoise(cutGradient, this.noise / rows.length, this.random);
    this.provisional = step;
    this.nextStep = step + 1;
    return {
      kind: 'gradient',
      step,
      gradient: { rows: rows.length, cols: this.embeddingWidth, data: cutGradient },
    };
  }
}
