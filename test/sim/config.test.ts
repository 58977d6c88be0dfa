import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ParameterError } from '../../src/secagg/errors.js';
import { DEFAULT_CONFIG, resolveConfig } from '../../src/sim/config.js';
import { ConfigFileError, loadConfig } from '../../src/sim/config-file.js';

describe('job config', () => {
  it('an empty config is the default job', () => {
    assert.deepEqual(resolveConfig({}), DEFAULT_CONFIG);
  });

  it('fills defaults around what is given, field by field', () => {
    const config = resolveConfig({
      model: 'cnn',
      fit: { epochs: 2 },
      partition: { kind: 'dirichlet', alpha: 0.5 },
      secureAggregation: false,
      rounds: 5,
    });
    assert.equal(config.model, 'cnn');
    assert.equal(config.fit.epochs, 2);
    assert.equal(config.fit.batchSize, DEFAULT_CONFIG.fit.batchSize);
    assert.deepEqual(config.partition, { kind: 'dirichlet', alpha: 0.5 });
    assert.equal(config.secureAggregation, false);
    // Asking for a number of rounds without a target means: run them all.
    assert.equal(config.targetAccuracy, undefined);
  });

  for (const [input, field] of [
    [{ fit: { epochs: 0 } }, 'fit.epochs'],
    [{ fit: { fraction: 1.5 } }, 'fit.fraction'],
    [{ strategy: { name: 'fedsgd' } }, 'strategy.name'],
    [{ model: 'resnet' }, 'model'],
    [{ partition: { kind: 'dirichlet', alpha: 0 } }, 'partition.alpha'],
    [{ dropout: { stage: 'later' } }, 'dropout.stage'],
    [{ clients: 10, fit: { minClients: 11 } }, 'fit.minClients'],
    [{ fit: { epoch: 1 } }, 'fit.epoch'],
    [{ secureAggregation: 3 }, 'secureAggregation'],
  ] as const) {
    it(`names ${field} when it is wrong`, () => {
      assert.throws(
        () => resolveConfig(input),
        (error: unknown) => error instanceof ParameterError && error.parameter === field,
      );
    });
  }

  it('reads JSON files and names the file in every error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sepal-config-'));
    const good = join(dir, 'job.json');
    await writeFile(good, JSON.stringify({ clients: 20, fit: { minClients: 2 } }));
    assert.equal((await loadConfig(good)).clients, 20);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ rounds: -1 }));
    await assert.rejects(loadConfig(bad), (error: unknown) => {
      return error instanceof ConfigFileError && error.file === bad && /rounds/.test(error.message);
    });
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ "rounds": ');
    await assert.rejects(loadConfig(broken), /not valid JSON/);
    await assert.rejects(loadConfig(join(dir, 'missing.json')), /cannot read it \(ENOENT\)/);
    await assert.rejects(loadConfig(join(dir, 'job.yaml')), /expected a \.json/);
  });
});
