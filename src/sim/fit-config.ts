/** How a client reads the strategy's fit config: the one mapping simulated and deployed clients share. */
import type { Config } from '../fl/client.js';
import type { FitConfig } from '../models/trainer.js';

/**
 * The trainer's FitConfig from a round's fit config. The FedOpt family sends the client learning
 * rate as `etaL`, FedProx adds `proximalMu`; `seed` makes the local shuffles replayable.
 */
export function fitConfigOf(config: Config, seed: string): FitConfig {
  const numberOf = (key: string): number | undefined => {
    const value = config[key];
    return typeof value === 'number' ? value : undefined;
  };
  const proximalMu = numberOf('proximalMu');
  return {
    epochs: numberOf('epochs') ?? 1,
    batchSize: numberOf('batchSize') ?? 32,
    learningRate: numberOf('etaL') ?? numberOf('learningRate') ?? 0.01,
    ...(proximalMu !== undefined && { proximalMu }),
    seed,
  };
}
