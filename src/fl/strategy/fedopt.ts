/**
 * Adaptive federated optimization (Reddi et al. 2021, "Adaptive Federated Optimization"), as
 * Flower implements it. With Δ = mean − x (the averaged client update):
 *
 *   m ← β₁·m + (1 − β₁)·Δ              (m starts at 0)
 *   v ← secondMoment(v, Δ)              (v starts at 0; Adagrad, Adam and Yogi differ only here)
 *   x ← x + stepSize(round) · m / (√v + τ)
 *
 * η_l, the clients' learning rate, is sent to them in every fit config as `etaL`.
 */
import type { Config } from '../client.js';
import { flatten, unflatten, type Parameters } from '../parameters.js';
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { numberIn, positive } from './options.js';
import { packState, stateVector, unpackState } from './state.js';

export interface FedOptOptions extends FedAvgOptions {
  /** η, the server learning rate. */
  readonly eta?: number;
  /** η_l, the client learning rate, sent as `etaL` in the fit config. */
  readonly etaL?: number;
  /** τ > 0, the adaptivity: bounds the step where v is small. */
  readonly tau?: number;
}

export interface MomentOptions extends FedOptOptions {
  /** β₁, decay of the first moment, in [0, 1). */
  readonly beta1?: number;
  /** β₂, decay of the second moment, in [0, 1). */
  readonly beta2?: number;
}

interface Defaults {
  readonly eta: number;
  readonly etaL: number;
  readonly tau: number;
  readonly beta1: number;
  readonly beta2: number;
}

export abstract class FedOpt extends FedAvg {
  readonly eta: number;
  readonly etaL: number;
  readonly tau: number;
  readonly beta1: number;
  readonly beta2: number;
  #m: Float32Array | undefined;
  #v: Float32Array | undefined;

  protected constructor(options: MomentOptions, defaults: Defaults) {
    super(options);
    this.eta = numberIn('eta', options.eta, defaults.eta, 0);
    this.etaL = numberIn('etaL', options.etaL, defaults.etaL, 0);
    // τ > 0 keeps m / (√v + τ) defined where an entry never moved (m = v = 0).
    this.tau = positive('tau', options.tau, defaults.tau);
    this.beta1 = numberIn('beta1', options.beta1, defaults.beta1, 0, 1, true);
    this.beta2 = numberIn('beta2', options.beta2, defaults.beta2, 0, 1, true);
  }

  /** The new second-moment entry from the old one and the squared update Δ². */
  protected abstract secondMoment(v: number, deltaSquared: number): number;

  /** The server step size of a round. */
  protected stepSize(_round: number): number {
    return this.eta;
  }

  protected override fitConfig(round: number): Config {
    return { ...super.fitConfig(round), etaL: this.etaL };
  }

  override fromWeightedMean(
    round: number,
    mean: Parameters,
    _totalWeight: number,
    current: Parameters,
  ): Parameters {
    const x = flatten(current);
    const avg = flatten(mean);
    const m = stateVector(this.#m, x.length, 'm');
    const v = stateVector(this.#v, x.length, 'v');
    const step = this.stepSize(round);
    for (let i = 0; i < x.length; i++) {
      const delta = (avg[i] as number) - (x[i] as number);
      m[i] = this.beta1 * (m[i] as number) + (1 - this.beta1) * delta;
      v[i] = this.secondMoment(v[i] as number, delta * delta);
      x[i] = (x[i] as number) + (step * (m[i] as number)) / (Math.sqrt(v[i] as number) + this.tau);
    }
    this.#m = m;
    this.#v = v;
    return unflatten(x, current);
  }

  saveState(): Parameters {
    return packState({ m: this.#m, v: this.#v });
  }

  loadState(state: Parameters): void {
    this.#m = unpackState(state, 'm');
    this.#v = unpackState(state, 'v');
  }
}

/** FedAdagrad: v ← v + Δ², no first-moment decay (β₁ = 0). Defaults: η 0.1, η_l 0.1, τ 1e-9. */
export class FedAdagrad extends FedOpt {
  override readonly name: string = 'FedAdagrad';

  constructor(options: FedOptOptions = {}) {
    super(
      { ...options, beta1: 0, beta2: 0 },
      { eta: 0.1, etaL: 0.1, tau: 1e-9, beta1: 0, beta2: 0 },
    );
  }

  protected secondMoment(v: number, deltaSquared: number): number {
    return v + deltaSquared;
  }
}

/**
 * FedAdam: v ← β₂·v + (1 − β₂)·Δ², with Flower's bias-corrected step
 * η·√(1 − β₂^(t+1)) / (1 − β₁^(t+1)) for round t. Defaults: η 0.1, η_l 0.1, β₁ 0.9, β₂ 0.99,
 * τ 1e-9.
 */
export class FedAdam extends FedOpt {
  override readonly name: string = 'FedAdam';

  constructor(options: MomentOptions = {}) {
    super(options, { eta: 0.1, etaL: 0.1, tau: 1e-9, beta1: 0.9, beta2: 0.99 });
  }

  protected secondMoment(v: number, deltaSquared: number): number {
    return this.beta2 * v + (1 - this.beta2) * deltaSquared;
  }

  protected override stepSize(round: number): number {
    return (this.eta * Math.sqrt(1 - this.beta2 ** (round + 1))) / (1 - this.beta1 ** (round + 1));
  }
}

/**
 * FedYogi: v ← v − (1 − β₂)·Δ²·sign(v − Δ²), so v moves towards Δ² by an additive step instead
 * of Adam's multiplicative one. Defaults: η 0.01, η_l 0.0316, β₁ 0.9, β₂ 0.99, τ 1e-3.
 */
export class FedYogi extends FedOpt {
  override readonly name: string = 'FedYogi';

  constructor(options: MomentOptions = {}) {
    super(options, { eta: 0.01, etaL: 0.0316, tau: 1e-3, beta1: 0.9, beta2: 0.99 });
  }

  protected secondMoment(v: number, deltaSquared: number): number {
    return v - (1 - this.beta2) * deltaSquared * Math.sign(v - deltaSquared);
  }
}
