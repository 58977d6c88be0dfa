import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientProxy } from '../../src/fl/client.js';
import { ParameterError } from '../../src/secagg/errors.js';
import {
  DEFAULT_CONFIG,
  resolveConfig,
  STRATEGY_NAMES,
  type JobConfigInput,
} from '../../src/sim/config.js';
import { createStrategy } from '../../src/sim/strategy-factory.js';

const proxies = Array.from({ length: 20 }, (_, i) => ({ id: `c${i}` }) as ClientProxy);
const build = (input: JobConfigInput) => createStrategy(resolveConfig(input), { seed: 1 });
const fitConfigOf = (input: JobConfigInput) =>
  build(input).configureFit(3, [], proxies)[0]?.ins.config;

describe('strategy factory', () => {
  it('builds every named strategy (robust ones without secure aggregation)', () => {
    for (const name of STRATEGY_NAMES) {
      const robust = ['fedmedian', 'fedtrimmedavg', 'krum'].includes(name);
      const strategy = build({
        strategy: { name, options: name === 'fedprox' ? { proximalMu: 0.1 } : {} },
        ...(robust ? { secureAggregation: false } : {}),
      });
      assert.equal(strategy.name.toLowerCase(), name);
    }
  });

  it('samples by fit.fraction and sends the job fit config, with the strategy own keys', () => {
    const config = { clients: 20, fit: { fraction: 0.25, epochs: 2, learningRate: 0.1 } };
    assert.equal(build(config).configureFit(1, [], proxies).length, 5);
    assert.deepEqual(fitConfigOf(config), {
      epochs: 2,
      batchSize: DEFAULT_CONFIG.fit.batchSize,
      learningRate: 0.1,
      round: 3,
    });
    const prox = fitConfigOf({
      ...config,
      strategy: { name: 'fedprox', options: { proximalMu: 0.5 } },
    });
    assert.equal(prox?.['proximalMu'], 0.5);
    const adam = fitConfigOf({ ...config, strategy: { name: 'fedadam', options: {} } });
    assert.equal(adam?.['etaL'], 0.1);
  });

  it('refuses what does not fit, naming the option', () => {
    const refuses = (input: JobConfigInput, parameter: string) =>
      assert.throws(
        () => build(input),
        (error: unknown) => error instanceof ParameterError && error.parameter === parameter,
      );
    refuses({ strategy: { name: 'fedprox', options: {} } }, 'proximalMu');
    refuses({ strategy: { name: 'fedmedian', options: {} } }, 'secureAggregation');
    refuses(
      { strategy: { name: 'fedavg', options: { fractionFit: 0.5 } } },
      'strategy.options.fractionFit',
    );
  });
});
