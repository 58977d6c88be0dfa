import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/cli/usage.js';
import { main } from '../../src/cli/vfl.js';
import { runVflExample } from '../../src/cli/vfl-example.js';

describe('sepal vfl', () => {
  it('aligns by PSI and trains split and central to the same accuracy (100 images)', async () => {
    // The bundled subset (6,000 / 1,000 images) loads and evaluates faster than the full set.
    const report = await runVflExample({
      subset: true,
      examples: 100,
      epochs: 1,
      noise: 0,
      seed: 2,
      batchSize: 16,
      learningRate: 0.01,
    });
    assert.deepEqual(report.ids, { passive: 90, active: 90, common: 80, psiExact: true });
    assert.equal(report.training.steps, 5);
    assert.ok(report.testAccuracy.split > 0.3, `split accuracy ${report.testAccuracy.split}`);
    assert.ok(Math.abs(report.testAccuracy.gapPoints) < 1, `gap ${report.testAccuracy.gapPoints}`);
  });

  it('refuses malformed options', async () => {
    for (const argv of [
      ['--epochs', 'two'],
      ['--epochs', '0'],
      ['--noise', '-1'],
      ['--subset', '--data-dir', '/tmp'],
      ['--unknown'],
    ]) {
      await assert.rejects(main(argv), UsageError, argv.join(' '));
    }
  });
});
