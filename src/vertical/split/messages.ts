/**
 * Split-learning messages. Each belongs to one step of the shared batch schedule; none carries an
 * id, a feature or a label: the passive party sends cut-layer activations, the active party sends
 * back the gradient of the loss with respect to them.
 */

/** A rows x cols float32 matrix, row-major: one row per example of the step's batch. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** Passive to active: the passive bottom model's output (plus noise, if configured). */
export interface EmbeddingMessage {
  kind: 'embedding';
  step: number;
  embedding: Matrix;
}

/** Active to passive: d(batch loss)/d(embedding) (plus noise, if configured). */
export interface GradientMessage {
  kind: 'gradient';
  step: number;
  gradient: Matrix;
}

/** Either way: the sender could not complete `step`; the receiver rolls that step back. */
export interface AbortMessage {
  kind: 'abort';
  step: number;
  reason: string;
}

export type SplitMessage = EmbeddingMessage | GradientMessage | AbortMessage;
