// The round simulator behind `sepal secagg simulate`: the report's correctness verdict, the two
// server CPU figures (the replay must reach the simulated result, or the simulator throws) and
// the abort path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simulateSecAggRound } from '../../src/sim/secagg-round.js';
import { STAGES } from '../../src/secagg/stages.js';

describe('simulateSecAggRound', () => {
  it('recovers from dropouts at every stage and reports both server CPU figures', () => {
    const report = simulateSecAggRound({
      clients: 24,
      dim: 300,
      options: { shareNum: 9, threshold: 5 },
      dropout: 0.25,
      dropoutStage: 'mixed',
      seed: 11,
    });
    assert.equal(report.aborted, false);
    assert.equal(report.exact, true);
    assert.equal(report.correct, true);
    assert.equal(report.dropped, 6);
    assert.ok(report.survivors >= 24 - 6 && report.survivors <= 24);
    assert.ok(report.serverCpuMs > 0 && report.serverCpuMsInSimulation > 0);
    assert.ok(report.serverCpuMsFirstRound > 0);
    const byStage = STAGES.reduce((sum, stage) => sum + report.serverCpuMsByStage[stage], 0);
    assert.ok(Math.abs(byStage - report.serverCpuMs) < 1e-6);
  });

  it('replays an unseeded round too (the server is seeded from fresh randomness)', () => {
    const report = simulateSecAggRound({
      clients: 10,
      dim: 50,
      options: {},
      dropout: 0.1,
      dropoutStage: 'ask-vectors',
    });
    assert.equal(report.correct, true);
  });

  it('reports an abort with its reason when too few clients remain', () => {
    const report = simulateSecAggRound({
      clients: 12,
      dim: 40,
      options: { shareNum: 12, threshold: 7 },
      dropout: 0.5,
      dropoutStage: 'share-keys',
      seed: 2,
    });
    assert.equal(report.aborted, true);
    assert.equal(report.correct, false);
    assert.match(report.reason ?? '', /threshold is 7|fewer than the minimum/);
  });
});
