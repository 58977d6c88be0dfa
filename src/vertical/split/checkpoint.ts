/**
 * A party's last good state: its models' weights and its optimizer's state (Adam's moments, the
 * step count), saved before a step changes them and restored if the step has to be undone.
 * Saving is cheap: tfjs clones share memory with the originals until an update replaces them.
 */
import { tf } from './tf.js';

type OptimizerState = Awaited<ReturnType<tf.Optimizer['getWeights']>>;

export class Checkpoint {
  private weights: tf.Tensor[][] | undefined;
  private optimizerState: OptimizerState | undefined;

  constructor(
    private readonly models: readonly tf.LayersModel[],
    private readonly optimizer: tf.Optimizer,
  ) {}

  async save(): Promise<void> {
    this.discard();
    this.weights = this.models.map((model) => model.getWeights().map((w) => w.clone()));
    // getWeights hands out the optimizer's live variables (which the next update overwrites) and
    // fresh tensors (the step count): copy the former, take ownership of the latter.
    const state = await this.optimizer.getWeights();
    this.optimizerState = state.map(({ name, tensor }) => ({
      name,
      tensor: tensor instanceof tf.Variable ? tensor.clone() : tensor,
    }));
  }

  /** Puts the saved state back and forgets it. */
  async restore(): Promise<void> {
    const { weights, optimizerState } = this;
    if (weights === undefined || optimizerState === undefined) return;
    this.models.forEach((model, i) => model.setWeights(weights[i] as tf.Tensor[]));
    await this.optimizer.setWeights(optimizerState);
    this.discard();
  }

  /** Forgets the saved state: the step it guarded is final. */
  discard(): void {
    this.weights?.flat().forEach((w) => w.dispose());
    this.optimizerState?.forEach(({ tensor }) => tensor.dispose());
    this.weights = undefined;
    this.optimizerState = undefined;
  }
}

/** True when every weight of every model is finite. */
export function allFinite(models: readonly tf.LayersModel[]): boolean {
  return models.every((model) =>
    model.getWeights().every((w) => tf.tidy(() => tf.all(tf.isFinite(w)).dataSync()[0] === 1)),
  );
}
