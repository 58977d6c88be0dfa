/**
 * FedAvgM (Hsu et al. 2019): server momentum on the pseudo-gradient g = x − mean, as Flower:
 * v ← β·v + g (v starts as the first g), x ← x − η·v.
 */
import { flatten, unflatten, type Parameters } from '../parameters.js';
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { numberIn } from './options.js';
import { packState, stateVector, unpackState } from './state.js';

export interface FedAvgMOptions extends FedAvgOptions {
  /** η, the server learning rate. Default 1. */
  readonly serverLearningRate?: number;
  /** β, the server momentum, in [0, 1]. Default 0 (then η = 1 is exactly FedAvg). */
  readonly serverMomentum?: number;
}

export class FedAvgM extends FedAvg {
  override readonly name: string = 'FedAvgM';
  readonly serverLearningRate: number;
  readonly serverMomentum: number;
  /** The momentum vector v; undefined until a round was aggregated with β > 0. */
  #momentum: Float32Array | undefined;

  constructor(options: FedAvgMOptions = {}) {
    super(options);
    this.serverLearningRate = numberIn('serverLearningRate', options.serverLearningRate, 1, 0);
    this.serverMomentum = numberIn('serverMomentum', options.serverMomentum, 0, 0, 1);
  }

  override fromWeightedMean(
    _round: number,
    mean: Parameters,
    _totalWeight: number,
    current: Parameters,
  ): Parameters {
    const x = flatten(current);
    const avg = flatten(mean);
    const beta = this.serverMomentum;
    const first = this.#momentum === undefined;
    const v = stateVector(this.#momentum, x.length, 'momentum');
    for (let i = 0; i < x.length; i++) {
      const g = (x[i] as number) - (avg[i] as number);
      v[i] = first ? g : beta * (v[i] as number) + g;
      x[i] = (x[i] as number) - this.serverLearningRate * (v[i] as number);
    }
    // Without momentum, v is only this round's g: nothing carries over.
    this.#momentum = beta > 0 ? v : undefined;
    return unflatten(x, current);
  }

  saveState(): Parameters {
    return packState({ momentum: this.#momentum });
  }

  loadState(state: Parameters): void {
    this.#momentum = unpackState(state, 'momentum');
  }
}
