/**
 * The passive party: features and a bottom model, no labels. Per step it sends the embedding of
 * its rows of the batch, then applies the gradient the active party returns to its bottom model
 * (chain rule: dL/dθ = Σ (dL/de) · de/dθ, computed as the gradient of Σ e ⊙ g).
 */
import { tf } from './tf.js';
import type { AbortMessage, EmbeddingMessage, GradientMessage, Matrix } from './messages.js';
import { gatherRows, outputWidth, trainableVariables } from './model.js';
import { addNoise } from './noise.js';
import { type PartyOptions, SplitParty } from './party.js';

export interface PassiveOptions extends PartyOptions {
  bottom: tf.LayersModel;
}

export class PassiveParty extends SplitParty {
  readonly bottom: tf.LayersModel;
  readonly embeddingWidth: number;
  /** The step whose embedding was sent and whose gradient is awaited. */
  private pending: number | undefined;

  constructor(options: PassiveOptions) {
    super(options, [options.bottom]);
    this.bottom = options.bottom;
    this.embeddingWidth = outputWidth(options.bottom);
  }

  /** The bottom model's output for `rows` of `features`, copied out of tfjs. */
  private embeddingOf(features: Matrix, rows: readonly number[]): Float32Array {
    return tf.tidy(() =>
      Float32Array.from((this.bottom.apply(gatherRows(features, rows)) as tf.Tensor2D).dataSync()),
    );
  }

  /** The embedding of `step`'s batch, noise included. Replaces any step still awaiting a gradient. */
  embed(step: number): EmbeddingMessage {
    const rows = this.schedule.rows(step);
    const embedding = this.embeddingOf(this.features, rows);
    addNoise(embedding, this.noise, this.random);
    this.pending = step;
    return {
      kind: 'embedding',
      step,
      embedding: { rows: rows.length, cols: this.embeddingWidth, data: embedding },
    };
  }

  /** Applies the gradient for the pending step, or forgets the step if the peer aborted it. */
  async receive(message: GradientMessage | AbortMessage): Promise<void> {
    const step = this.pending;
    if (message.step !== step) {
      this.peerError(`${message.kind} for step ${message.step}, awaiting ${step ?? 'nothing'}`);
    }
    if (message.kind === 'abort') {
      this.pending = undefined;
      return;
    }
    this.checkMatrix('gradient', step, message.gradient, this.embeddingWidth);
    const rows = this.schedule.rows(step);
    await this.guardedUpdate(step, () =>
      tf.tidy(() => {
        const x = gatherRows(this.features, rows);
        const g = tf.tensor2d(message.gradient.data, [rows.length, this.embeddingWidth]);
        const surrogate = () => tf.sum(tf.mul(this.bottom.apply(x) as tf.Tensor2D, g)) as tf.Scalar;
        this.optimizer.minimize(surrogate, false, trainableVariables(this.bottom));
      }),
    );
    this.checkpoint.discard();
    this.pending = undefined;
  }

  /** Embeddings of arbitrary rows (inference, evaluation): no noise, no state change. */
  infer(features: Matrix): Matrix {
    const rows = Array.from({ length: features.rows }, (_, i) => i);
    return {
      rows: features.rows,
      cols: this.embeddingWidth,
      data: this.embeddingOf(features, rows),
    };
  }
}
