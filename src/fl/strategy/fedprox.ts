/**
 * FedProx (Li et al. 2020): FedAvg on the server; clients add (μ/2)·‖w − w_global‖² to their
 * local loss. The strategy's only job is to send μ: every fit config carries `proximalMu`.
 */
import type { Config } from '../client.js';
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { numberIn } from './options.js';

export interface FedProxOptions extends FedAvgOptions {
  /** μ, the weight of the proximal term; 0 makes the clients' training plain FedAvg. */
  readonly proximalMu: number;
}

export class FedProx extends FedAvg {
  override readonly name: string = 'FedProx';
  readonly proximalMu: number;

  constructor(options: FedProxOptions) {
    super(options);
    this.proximalMu = numberIn('proximalMu', options.proximalMu, Number.NaN, 0);
  }

  protected override fitConfig(round: number): Config {
    return { ...super.fitConfig(round), proximalMu: this.proximalMu };
  }
}
