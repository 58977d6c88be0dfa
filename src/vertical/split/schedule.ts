/**
 * The shared batch schedule: which aligned rows form the batch of each training step. Both
 * parties derive it from the same (count, batch size, epochs, seed), so a step number is all a
 * message needs to name its batch; every epoch visits each aligned row exactly once, in an order
 * drawn from the seed.
 */
import { seededRandom, shuffle } from '../../crypto/random.js';

export interface ScheduleOptions {
  /** Aligned rows (the PSI intersection size). */
  count: number;
  batchSize: number;
  epochs: number;
  /** Agreed by both parties; replaying it replays the batches. */
  seed: string | number;
}

export class BatchSchedule {
  readonly steps: number;
  readonly stepsPerEpoch: number;
  private readonly orders: number[][];

  constructor(readonly options: ScheduleOptions) {
    const { count, batchSize, epochs } = options;
    for (const [name, value] of Object.entries({ count, batchSize, epochs })) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
      }
    }
    this.stepsPerEpoch = Math.ceil(count / batchSize);
    this.steps = this.stepsPerEpoch * epochs;
    const rows = Array.from({ length: count }, (_, i) => i);
    this.orders = Array.from({ length: epochs }, (_, epoch) =>
      shuffle(rows, seededRandom(options.seed, `sepal/vertical/batch-schedule/epoch-${epoch}`)),
    );
  }

  /** Aligned row indices of `step`'s batch; the last batch of an epoch may be smaller. */
  rows(step: number): number[] {
    if (!Number.isInteger(step) || step < 0 || step >= this.steps) {
      throw new RangeError(`step ${step} is outside the schedule's [0, ${this.steps})`);
    }
    const order = this.orders[Math.floor(step / this.stepsPerEpoch)] as number[];
    const start = (step % this.stepsPerEpoch) * this.options.batchSize;
    return order.slice(start, start + this.options.batchSize);
  }
}
