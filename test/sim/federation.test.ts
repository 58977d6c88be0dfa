// The simulation engine end to end: the real data subset, the training pool, the server loop
// with SecAgg+, injected dropouts, the CLI's --json line and report.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ServerEvent } from '../../src/fl/events.js';
import type { History } from '../../src/fl/history.js';
import { resolveConfig, type JobConfigInput } from '../../src/sim/config.js';
import { simulate } from '../../src/sim/federation.js';

const JOB: JobConfigInput = {
  name: 'federation-test',
  clients: 20,
  rounds: 2,
  fit: { fraction: 0.5, minClients: 2, epochs: 1, batchSize: 32, learningRate: 0.05 },
  secureAggregation: { shareNum: 5 },
  dropout: { probability: 0.2, stage: 'share-keys' },
  seed: 3,
  workers: 1,
};

describe('sepal simulate', () => {
  it('runs rounds with SecAgg+ and reproducible dropouts; --json ends with the History, a report is written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sepal-sim-'));
    const configFile = join(dir, 'job.json');
    const report = join(dir, 'report.html');
    await writeFile(configFile, JSON.stringify(JOB));
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'simulate', configFile, '--json', '--report', report],
      { encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    const lines = child.stdout.trim().split('\n');
    const fromCli = JSON.parse(lines.at(-1) as string) as History & {
      rounds: { round: number; accuracy: number; loss: number; droppedClients: string[] }[];
    };
    assert.equal(fromCli.rounds.length, 2);
    for (const round of fromCli.rounds) {
      assert.ok(round.accuracy > 0.1 && round.accuracy <= 1, `accuracy ${round.accuracy}`);
      assert.ok(Number.isFinite(round.loss));
      assert.ok(round.secAgg !== undefined && round.secAgg.aborted === undefined);
      assert.equal(round.sampled, 10);
      // Dropouts after share-keys are still in the protocol's dropped list, never aggregated.
      assert.equal(round.aggregated + round.dropped.length, round.sampled);
      assert.deepEqual(round.droppedClients, round.dropped);
    }
    assert.ok(
      fromCli.rounds.some((r) => r.dropped.length > 0),
      'some client dropped',
    );
    assert.match(child.stdout, /round +accuracy/);
    assert.match(await readFile(report, 'utf8'), /data-chart="accuracy"/);

    // The same seed replays the same run: sampling, dropouts, training and masking randomness.
    const { history } = await simulate({ config: resolveConfig(JOB) });
    assert.deepEqual(
      history.rounds.map((r) => [r.dropped, r.centralized?.accuracy]),
      fromCli.rounds.map((r) => [r.dropped, r.centralized?.accuracy]),
    );
  });
});

describe('secure aggregation alongside training in the simulator', () => {
  it('drops clients injected to vanish after setup while they train, and aggregates the rest', async () => {
    const events: ServerEvent[] = [];
    const { history } = await simulate({
      config: resolveConfig({
        ...JOB,
        name: 'overlap-test',
        rounds: 1,
        dropout: { probability: 0.3, stage: 'setup' },
      }),
      onEvent: (e) => events.push(e),
    });
    const [round] = history.rounds;
    assert.ok(round?.secAgg !== undefined && round.secAgg.aborted === undefined);
    const drops = events.flatMap((e) => (e.type === 'client-dropped' ? [e] : []));
    assert.ok(drops.length > 0, 'the seed drops some client');
    assert.deepEqual([...new Set(drops.map((d) => d.stage))], ['ask-keys']);
    assert.deepEqual(
      round.dropped,
      drops.map((d) => d.client),
    );
    assert.equal(round.aggregated, round.sampled - drops.length);
    // They left while clients were still training: before the last fit finished.
    const lastFit = events.findLastIndex((e) => e.type === 'fit-finished');
    assert.ok(events.indexOf(drops[0] as ServerEvent) < lastFit);
    assert.ok((round.secAgg.afterFitMs ?? -1) >= 0);
  });
});
