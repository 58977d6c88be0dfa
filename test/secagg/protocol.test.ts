import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ClientMessage } from '../../src/secagg/messages.js';
import { quantizationStep } from '../../src/secagg/quantize.js';
import { STAGES, type Stage } from '../../src/secagg/stages.js';
import { plainMean, runRound, type Run } from './harness.js';

const DIM = 24;

function assertMeanOf(run: Run, survivors: readonly number[]): void {
  const result = run.final.result;
  assert.ok(result, `round aborted: ${run.final.aborted?.message}`);
  assert.deepEqual(
    result.survivors,
    [...survivors].sort((a, b) => a - b),
  );
  const expected = plainMean(run, survivors, run.server.params.maxWeight);
  const step = quantizationStep(run.server.params);
  result.values.forEach((v, i) =>
    assert.ok(Math.abs(v - (expected[i] as number)) <= step * 1.01, `entry ${i}`),
  );
}

describe('SecAgg/SecAgg+ rounds', () => {
  it('with any dropouts after any stages, the result is the weighted mean of the clients whose vectors arrived', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 14 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            shareNum: fc.oneof(
              fc.constant(n),
              fc
                .integer({ min: 1, max: Math.max(1, Math.floor((n - 1) / 2)) })
                .map((h) => 2 * h + 1),
            ),
            vanish: fc.dictionary(
              fc.integer({ min: 1, max: n }).map(String),
              fc.constantFrom(...STAGES),
              { maxKeys: Math.floor(n / 4) },
            ),
            seed: fc.nat(),
          }),
        ),
        ({ n, shareNum, vanish, seed }) => {
          const k = Math.min(shareNum, n);
          const run = runRound(
            n,
            DIM,
            { shareNum: k, minNum: 1 },
            {
              toClient: (to, message) => {
                const after = vanish[String(to)] as Stage | undefined;
                return after !== undefined && STAGES.indexOf(message.stage) > STAGES.indexOf(after)
                  ? undefined
                  : message;
              },
            },
            seed,
          );
          if (run.final.aborted) {
            // Aborting is allowed only for the reasons the protocol names: too few holders.
            assert.match(run.final.aborted.reason, /threshold|minimum/);
            return;
          }
          // A client that stayed may still be left out, but only by the server's own rule: its
          // shares reached fewer than threshold live holders, so it could never be unmasked.
          const starved = new Set(
            run.events
              .filter((e) => e.kind === 'dropped' && /threshold/.test(e.reason))
              .map((e) => e.client),
          );
          const survivors = Array.from({ length: n }, (_, i) => i + 1).filter((id) => {
            const after = vanish[String(id)] as Stage | undefined;
            const stayed =
              after === undefined || STAGES.indexOf(after) >= STAGES.indexOf('ask-vectors');
            return stayed && !starved.has(id);
          });
          for (const id of starved) {
            const live = run.server
              .neighboursOf(id)
              .filter((peer) => vanish[String(peer)] !== 'ask-keys' && !starved.has(peer));
            assert.ok(live.length < run.server.params.threshold, `client ${id} dropped needlessly`);
          }
          assertMeanOf(run, survivors);
        },
      ),
      { numRuns: Number(process.env.SEPAL_PROPERTY_RUNS ?? 40) },
    );
  });

  it('is bit-exact: the unmasked sum is the modular sum of the weighted quantized vectors', () => {
    // With values exactly on quantization levels, stochastic rounding is deterministic.
    const params = runRound(5, 4, { shareNum: 5 }).server.params;
    const step = quantizationStep(params);
    const level = (k: number) => k * step - params.clippingRange;
    const run = runRound(
      5,
      4,
      { shareNum: 5 },
      {
        input: (id) => ({
          values: new Float32Array([
            level(0),
            level(id),
            level(1000 * id),
            level(params.targetRange - 1),
          ]),
          numExamples: id,
        }),
      },
    );
    const sum = run.final.result?.sum;
    assert.ok(sum);
    const weights = [1, 2, 3, 4, 5];
    const total = weights.reduce((a, b) => a + b);
    assert.equal(sum[0], total);
    assert.equal(sum[1], 0);
    assert.equal(
      sum[2],
      weights.reduce((acc, w) => acc + w * w, 0),
    );
    assert.equal(
      sum[3],
      weights.reduce((acc, w) => acc + w * 1000 * w, 0),
    );
    assert.equal(sum[4], total * (params.targetRange - 1));
  });

  it('aborts with a typed reason when too few clients remain, and returns nothing', () => {
    const run = runRound(
      6,
      DIM,
      { shareNum: 6, threshold: 4 },
      {
        toClient: (to, m) => (to <= 3 && m.stage === 'ask-vectors' ? undefined : m),
      },
    );
    assert.equal(run.final.result, undefined);
    assert.equal(run.final.aborted?.name, 'RoundAbortedError');
    assert.equal(run.final.aborted?.stage, 'ask-vectors');
    assert.match(
      run.final.aborted?.reason ?? '',
      /3 clients completed share-keys, fewer than the minimum of 4|fewer than/,
    );
  });
});

describe('bad input never crashes the server or corrupts the sum', () => {
  const all = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const without = (n: number, ...ids: number[]) => all(n).filter((id) => !ids.includes(id));
  const droppedEvent = (run: Run, client: number) =>
    run.events.find((e) => e.client === client && e.kind === 'dropped');

  it('a client with NaN or infinite input aborts before masking and is dropped', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const run = runRound(
        7,
        DIM,
        { shareNum: 7 },
        {
          input: (id) => ({
            values: new Float32Array(DIM).fill(id === 2 ? bad : 0.5),
            numExamples: 1,
          }),
        },
      );
      assertMeanOf(run, without(7, 2));
      assert.match(droppedEvent(run, 2)?.reason ?? '', /entry 0 is (NaN|Infinity)/);
    }
  });

  it('a client whose update has the wrong length is dropped', () => {
    const run = runRound(
      7,
      DIM,
      { shareNum: 7 },
      {
        input: (id) => ({ values: new Float32Array(id === 3 ? DIM - 1 : DIM), numExamples: 1 }),
      },
    );
    assertMeanOf(run, without(7, 3));
    assert.match(droppedEvent(run, 3)?.reason ?? '', /dim = 24/);
  });

  it('a masked vector of the wrong length is refused and its sender unmasked as dropped', () => {
    const run = runRound(
      7,
      DIM,
      { shareNum: 7 },
      {
        toServer: (from, m) =>
          from === 4 && m.stage === 'ask-vectors' ? { ...m, vector: m.vector.subarray(1) } : m,
      },
    );
    assertMeanOf(run, without(7, 4));
    assert.match(droppedEvent(run, 4)?.reason ?? '', /vector of 24 entries, expected 25/);
  });

  it('wrong-stage, duplicate and unknown-sender messages are named and dropped or ignored', () => {
    const run = runRound(
      8,
      DIM,
      { shareNum: 8 },
      {
        toServer: (from, m): ClientMessage | ClientMessage[] => {
          if (from === 1 && m.stage === 'ask-keys') return { stage: 'setup' };
          if (from === 2 && m.stage === 'share-keys') return [m, m];
          return m;
        },
      },
    );
    assertMeanOf(run, without(8, 1, 2));
    assert.match(droppedEvent(run, 1)?.reason ?? '', /sent a setup message during ask-keys/);
    assert.match(droppedEvent(run, 2)?.reason ?? '', /answered share-keys twice/);
    const stray = run.server.receive(99, { stage: 'setup' });
    assert.deepEqual(
      stray.events.map((e) => [e.client, e.kind]),
      [[99, 'ignored']],
    );
  });

  it('repeated or small-order public keys get their sender dropped', () => {
    let firstKeys: ClientMessage | undefined;
    const run = runRound(
      8,
      DIM,
      { shareNum: 8 },
      {
        toServer: (from, m) => {
          if (m.stage !== 'ask-keys') return m;
          if (from === 1) firstKeys = m;
          if (from === 5 && firstKeys) return firstKeys;
          if (from === 6) return { ...m, maskKey: new Uint8Array(32) };
          return m;
        },
      },
    );
    assertMeanOf(run, without(8, 5, 6));
    assert.match(droppedEvent(run, 5)?.reason ?? '', /repeats the public key of client 1/);
    assert.match(droppedEvent(run, 6)?.reason ?? '', /small order/);
  });

  it('an undecryptable share is reported by its receiver, and the round still completes', () => {
    const run = runRound(
      7,
      DIM,
      { shareNum: 7 },
      {
        toClient: (to, m) => {
          if (to !== 2 || m.stage !== 'ask-vectors') return m;
          return {
            ...m,
            shares: m.shares.map((s) =>
              s.peer === 5
                ? { ...s, ciphertext: s.ciphertext.map((b, i) => (i === 20 ? b ^ 1 : b)) }
                : s,
            ),
          };
        },
      },
    );
    assertMeanOf(run, all(7));
    const report = run.events.find((e) => e.kind === 'reported');
    assert.equal(report?.client, 5);
    assert.match(
      report?.reason ?? '',
      /client 2 could not decrypt the share it received from client 5/,
    );
  });

  it('a share replayed to another receiver fails authentication', () => {
    // The server (or anyone on the path) swaps the ciphertexts two receivers get from client 1.
    let forThree: Uint8Array | undefined;
    const run = runRound(
      6,
      DIM,
      { shareNum: 6 },
      {
        toServer: (from, m) => {
          if (from !== 1 || m.stage !== 'share-keys') return m;
          forThree = m.shares.find((s) => s.peer === 3)?.ciphertext;
          return {
            ...m,
            shares: m.shares.map((s) =>
              s.peer === 4 ? { ...s, ciphertext: forThree as Uint8Array } : s,
            ),
          };
        },
      },
    );
    assertMeanOf(run, all(6));
    const report = run.events.find((e) => e.kind === 'reported');
    assert.equal(report?.client, 1);
    assert.match(report?.reason ?? '', /client 4 could not decrypt/);
  });

  it('a vector arriving after its sender was declared dropped is ignored', () => {
    let late: ClientMessage | undefined;
    const run = runRound(
      6,
      DIM,
      { shareNum: 6 },
      {
        toServer: (from, m) => {
          if (from === 3 && m.stage === 'ask-vectors') {
            late = m;
            return undefined;
          }
          return m;
        },
      },
    );
    assertMeanOf(run, without(6, 3));
    const after = run.server.receive(3, late as ClientMessage);
    assert.equal(after.events[0]?.kind, 'ignored');
  });

  it('a client never returns both the seed share and the key share of one peer', () => {
    const run = runRound(
      6,
      DIM,
      { shareNum: 6 },
      {
        toClient: (to, m) =>
          to === 2 && m.stage === 'unmask' ? { ...m, dropped: [...m.dropped, 4] } : m,
      },
    );
    assert.match(droppedEvent(run, 2)?.reason ?? '', /both a survivor and dropped/);
    assertMeanOf(run, all(6));
  });
});
