import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProgress, roundSummary, type ProgressEvent } from '../../src/cli/progress.js';
import type { RoundRecord } from '../../src/fl/history.js';
import { STAGES } from '../../src/secagg/stages.js';
import { formatDuration } from '../../src/report/format.js';
import { syntheticHistory } from '../report/fixtures.js';

/** A stream that records what was written, and a clock the test moves. */
function harness(isTTY: boolean, columns = 100) {
  const chunks: string[] = [];
  let time = 0;
  const progress = createProgress({
    stream: { write: (chunk: string) => chunks.push(chunk), isTTY, columns },
    totalRounds: 20,
    now: () => time,
  });
  return {
    progress,
    chunks,
    tick: (ms: number) => {
      time += ms;
    },
    output: () => chunks.join(''),
  };
}

const history = syntheticHistory({ rounds: 20, aborted: [9] });
const record = (round: number) => history.rounds[round - 1] as RoundRecord;

/** The events of one secure round, fit then the five stages, 10 ms apart. */
function playRound(h: ReturnType<typeof harness>, round: number, sampled = 4): void {
  h.progress.handle({ type: 'roundStarted', round, sampled, secure: true });
  for (let i = 0; i < sampled; i++) {
    h.tick(10);
    h.progress.handle({ type: 'clientFitDone', round, failed: i === 0 });
  }
  for (const stage of STAGES) {
    h.tick(10);
    h.progress.handle({ type: 'secAggStage', round, stage, ms: 10 });
  }
  h.progress.handle({ type: 'roundFinished', record: record(round) });
}

describe('roundSummary', () => {
  it('gives round, accuracy, loss, dropped, secagg time and time on one line', () => {
    const line = roundSummary(record(4), 20);
    assert.match(
      line,
      /^round {2}4\/20 {2}acc {1,2}\d+\.\d\d% {2}loss +\d\.\d{3,4} {2}dropped +2\/50 {2}secagg +\d+ ms {2}time +\d\.\d s$/,
    );
  });

  it('says why a round aborted, sanitized, and leaves out what was not recorded', () => {
    const { round, sampled, aggregated, dropped, fitMetrics, durationMs } = record(9);
    const bare: RoundRecord = { round, sampled, aggregated, dropped, fitMetrics, durationMs };
    const line = roundSummary({ ...bare, aborted: 'too few\x1b[31m clients\n' });
    assert.equal(
      line,
      `round 9  dropped  0/50  time ${formatDuration(durationMs).padStart(7)}  ABORTED: too few\uFFFD[31m clients `,
    );
    assert.doesNotMatch(line, /acc|loss|secagg/);
  });
});

describe('createProgress', () => {
  it('off a TTY prints exactly one plain line per round and no escape codes', () => {
    const h = harness(false);
    for (let round = 1; round <= 3; round++) playRound(h, round);
    const lines = h.output().split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(
      lines,
      [1, 2, 3].map((r) => roundSummary(record(r), 20)),
    );
    assert.ok(!h.output().includes('\x1b') && !h.output().includes('\r'));
  });

  it('on a TTY redraws a status line in place whose bar fills to the end, then prints the summary', () => {
    const h = harness(true);
    playRound(h, 1);
    const statuses = h.chunks.filter((c) => c.startsWith('\r\x1b[2K') && c.length > 5);
    assert.ok(statuses.length >= 2);
    const filled = (s: string) => [...s].filter((c) => c === '\u2588').length;
    const first = statuses[0] as string;
    const last = statuses[statuses.length - 1] as string;
    assert.equal(filled(first), 0);
    assert.match(last, /fit 4\/4 \(1 failed\) {2}secagg 5\/5 {2}/);
    assert.equal(filled(last), /\[([\u2588\u2591]+)\]/.exec(last)?.[1]?.length, 'full bar');
    assert.ok(
      statuses.every((s) => s.length - 5 < 100),
      'never wider than the terminal',
    );
    assert.ok(h.output().endsWith(`\r\x1b[2K${roundSummary(record(1), 20)}\n`));
  });

  it('throttles redraws for fit events but always draws phase changes', () => {
    const h = harness(true);
    h.progress.handle({ type: 'roundStarted', round: 1, sampled: 500 });
    for (let i = 0; i < 500; i++) {
      h.tick(1);
      h.progress.handle({ type: 'clientFitDone', round: 1 });
    }
    const draws = h.chunks.length;
    assert.ok(draws <= 1 + 500 / 50 + 1, `${draws} redraws for 500 fit events`);
  });

  it('ignores late events from an earlier round', () => {
    const h = harness(true);
    h.progress.handle({ type: 'roundStarted', round: 2, sampled: 2 });
    const before = h.chunks.length;
    const late: ProgressEvent[] = [
      { type: 'clientFitDone', round: 1 },
      { type: 'secAggStage', round: 1, stage: 'unmask', ms: 3 },
    ];
    late.forEach((e) => h.progress.handle(e));
    assert.equal(h.chunks.length, before);
  });

  it('end() clears a status line left on screen, and does nothing otherwise', () => {
    const h = harness(true);
    h.progress.end();
    assert.equal(h.output(), '');
    h.progress.handle({ type: 'roundStarted', round: 1, sampled: 3 });
    h.progress.end();
    assert.ok(h.output().endsWith('\r\x1b[2K'));
  });

  it('fits a narrow terminal', () => {
    const h = harness(true, 40);
    playRound(h, 1);
    const statuses = h.chunks.filter(
      (c) => c.startsWith('\r\x1b[2K') && c.length > 5 && !c.endsWith('\n'),
    );
    assert.ok(
      statuses.every((s) => [...s].length - 5 <= 39),
      statuses.join('|'),
    );
  });
});
