import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  axisLabels,
  formatBytes,
  formatCount,
  formatDuration,
  formatMetric,
  formatPercent,
  MISSING,
} from '../../src/report/format.js';

describe('value formats', () => {
  it('formats counts, percentages, metrics, durations and bytes', () => {
    assert.equal(formatCount(409648), '409,648');
    assert.equal(formatPercent(0.84236), '84.2%');
    assert.equal(formatPercent(0.84236, 2), '84.24%');
    assert.equal(formatMetric(0.593), '0.5930');
    assert.equal(formatMetric(2.30258), '2.303');
    assert.equal(formatMetric(12345.6), '12,346');
    assert.equal(formatMetric(0.00001234), '1.23e-5');
    assert.equal(formatMetric(Number.NaN), 'NaN');
    assert.equal(formatDuration(812.4), '812 ms');
    assert.equal(formatDuration(3412), '3.4 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(formatDuration(3_900_000), '1 h 5 min');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(409_648), '409.6 kB');
    assert.equal(formatBytes(2_009_648), '2.0 MB');
  });

  it('writes a dash for what was not recorded', () => {
    for (const format of [formatCount, formatPercent, formatMetric, formatDuration, formatBytes]) {
      assert.equal(format(undefined), MISSING);
    }
  });
});

describe('axisLabels', () => {
  it('uses one prefix and one number of decimals per axis', () => {
    assert.deepEqual(axisLabels([0, 500_000, 1_000_000, 1_500_000], 'bytes'), [
      '0',
      '0.5 MB',
      '1.0 MB',
      '1.5 MB',
    ]);
    assert.deepEqual(axisLabels([0, 0.2, 0.4], 'number'), ['0', '0.2', '0.4']);
    assert.deepEqual(axisLabels([0, 5000, 10_000], 'number'), ['0', '5k', '10k']);
  });

  it('labels ticks spanning three decades or more each on their own', () => {
    assert.deepEqual(axisLabels([100, 1000, 10_000, 100_000], 'bytes'), [
      '100 B',
      '1 kB',
      '10 kB',
      '100 kB',
    ]);
  });

  it('writes percentages and durations', () => {
    assert.deepEqual(axisLabels([0.8, 0.85, 0.9], 'percent'), ['80%', '85%', '90%']);
    assert.deepEqual(axisLabels([0, 250, 500], 'ms'), ['0', '250 ms', '500 ms']);
    assert.deepEqual(axisLabels([0, 5000, 10_000], 'ms'), ['0', '5 s', '10 s']);
  });

  it('never writes -0 or binary noise', () => {
    assert.deepEqual(axisLabels([-0.2, -0, 0.1 + 0.2], 'number'), ['-0.2', '0', '0.3']);
  });
});
