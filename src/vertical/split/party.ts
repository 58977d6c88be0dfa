/**
 * What both split-learning parties share: configuration, input checks, and the step transaction
 * (save the last good state, apply, keep it only if every weight is still finite).
 */
import type { RandomSource } from '../../crypto/random.js';
import { PeerError, VerticalInputError } from '../errors.js';
import { Checkpoint, allFinite } from './checkpoint.js';
import type { Matrix } from './messages.js';
import { firstNonFinite } from './model.js';
import { checkNoise } from './noise.js';
import type { BatchSchedule } from './schedule.js';
import type { tf } from './tf.js';

export interface PartyOptions {
  /** This party's name, used in errors. */
  name: string;
  /** The peer's name, used in errors about its messages. */
  peer: string;
  /** This party's features, one row per aligned id, in the PSI's aligned order. */
  features: Matrix;
  schedule: BatchSchedule;
  /** This party's own optimizer; it updates only this party's models. */
  optimizer: tf.Optimizer;
  /** Standard deviation of the Gaussian noise on what this party sends (default 0: none). */
  noise?: number;
  /** Source of the noise; the platform CSPRNG unless a simulation injects a seeded one. */
  random?: RandomSource;
}

export abstract class SplitParty {
  readonly name: string;
  readonly peer: string;
  protected readonly features: Matrix;
  protected readonly schedule: BatchSchedule;
  protected readonly optimizer: tf.Optimizer;
  protected readonly noise: number;
  protected readonly random: RandomSource | undefined;
  protected readonly checkpoint: Checkpoint;

  constructor(
    options: PartyOptions,
    protected readonly models: readonly tf.LayersModel[],
  ) {
    this.name = options.name;
    this.peer = options.peer;
    this.features = options.features;
    this.schedule = options.schedule;
    this.optimizer = options.optimizer;
    this.noise = options.noise ?? 0;
    this.random = options.random;
    this.checkpoint = new Checkpoint(models, options.optimizer);
    const { rows, cols, data } = options.features;
    if (data.length !== rows * cols) {
      this.inputError(`features: ${data.length} values for ${rows} x ${cols}`);
    }
    if (rows !== options.schedule.options.count) {
      this.inputError(
        `features have ${rows} rows, the schedule aligns ${options.schedule.options.count}`,
      );
    }
    const bad = firstNonFinite(data);
    if (bad >= 0)
      this.inputError(`feature ${bad % cols} of row ${Math.floor(bad / cols)} is ${data[bad]}`);
    try {
      checkNoise(this.noise);
    } catch (error) {
      this.inputError((error as Error).message);
    }
  }

  /** Checks a matrix received from the peer for `step`: shape, then finite values. */
  protected checkMatrix(what: string, step: number, matrix: Matrix, cols: number): void {
    const rows = this.schedule.rows(step).length;
    if (matrix.rows !== rows || matrix.cols !== cols) {
      this.peerError(
        `${what} for step ${step} is ${matrix.rows} x ${matrix.cols}, expected ${rows} x ${cols}`,
      );
    }
    const bad = firstNonFinite(matrix.data);
    if (bad >= 0) {
      this.peerError(
        `${what} for step ${step} has ${matrix.data[bad]} at row ${Math.floor(bad / cols)}`,
      );
    }
  }

  /**
   * Runs `update` on this party's models after saving their state; if it throws or leaves any
   * weight non-finite, the saved state comes back. The caller decides when the save is final
   * (`checkpoint.discard()`), which lets the active party wait for the peer's acknowledgement.
   */
  protected async guardedUpdate(step: number, update: () => void): Promise<void> {
    await this.checkpoint.save();
    try {
      update();
    } catch (error) {
      await this.checkpoint.restore();
      throw error;
    }
    if (!allFinite(this.models)) {
      await this.checkpoint.restore();
      this.inputError(
        `step ${step} made a weight non-finite (learning rate too high?); rolled back`,
      );
    }
  }

  protected inputError(message: string): never {
    throw new VerticalInputError(this.name, message);
  }

  protected peerError(message: string): never {
    throw new PeerError(this.name, this.peer, message);
  }
}
