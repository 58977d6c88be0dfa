import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/crypto/random.js';
import { PeerError, PeerTimeoutError, VerticalInputError } from '../../src/vertical/errors.js';
import { ActiveParty } from '../../src/vertical/split/active.js';
import { alignRows } from '../../src/vertical/split/align.js';
import { trainCentral } from '../../src/vertical/split/central.js';
import { decodeSplitMessage, encodeSplitMessage } from '../../src/vertical/split/codec.js';
import { inProcessTransport, trainSplit } from '../../src/vertical/split/driver.js';
import type { Matrix } from '../../src/vertical/split/messages.js';
import {
  activeLogits,
  batchLoss,
  createSplitModel,
  gatherRows,
  type SplitModel,
} from '../../src/vertical/split/model.js';
import { gaussian } from '../../src/vertical/split/noise.js';
import { PassiveParty } from '../../src/vertical/split/passive.js';
import { BatchSchedule } from '../../src/vertical/split/schedule.js';
import { tf } from '../../src/vertical/split/tf.js';

const ROWS = 96;
const ARCH = { passiveInputs: 5, activeInputs: 3, embedding: 6, hidden: 8, classes: 3 };

/** A small learnable task: the class depends on features at both parties. */
function task() {
  const random = seededRandom(1, 'task');
  const passive = gaussian(ROWS * ARCH.passiveInputs, 1, random);
  const active = gaussian(ROWS * ARCH.activeInputs, 1, random);
  const labels = Array.from({ length: ROWS }, (_, i) => {
    const score = (passive[i * 5] as number) + (active[i * 3] as number);
    return score < -0.5 ? 0 : score < 0.5 ? 1 : 2;
  });
  return {
    passive: { rows: ROWS, cols: ARCH.passiveInputs, data: passive },
    active: { rows: ROWS, cols: ARCH.activeInputs, data: active },
    labels,
  };
}

function setup(options: { noise?: number; optimizer?: () => tf.Optimizer; epochs?: number } = {}) {
  const data = task();
  const model = createSplitModel(ARCH, 3);
  const schedule = new BatchSchedule({
    count: ROWS,
    batchSize: 32,
    epochs: options.epochs ?? 1,
    seed: 5,
  });
  const optimizer = options.optimizer ?? (() => tf.train.adam(0.01));
  const common = { schedule, noise: options.noise ?? 0 };
  const passive = new PassiveParty({
    ...common,
    name: 'passive',
    peer: 'active',
    features: data.passive,
    bottom: model.passiveBottom,
    optimizer: optimizer(),
    random: seededRandom(1, 'passive-noise'),
  });
  const active = new ActiveParty({
    ...common,
    name: 'active',
    peer: 'passive',
    features: data.active,
    labels: data.labels,
    classes: ARCH.classes,
    bottom: model.activeBottom,
    top: model.top,
    optimizer: optimizer(),
    random: seededRandom(1, 'active-noise'),
  });
  return { model, passive, active, schedule, data };
}

const weightsOf = (model: SplitModel) =>
  [model.passiveBottom, model.activeBottom, model.top].flatMap((m) =>
    m.getWeights().map((w) => Array.from(w.dataSync())),
  );

function assertClose(actual: number[][], expected: number[][], tolerance: number) {
  assert.equal(actual.length, expected.length);
  actual.forEach((values, i) =>
    values.forEach((value, j) => {
      const want = expected[i]?.[j] as number;
      assert.ok(Math.abs(value - want) <= tolerance, `weight ${i}[${j}]: ${value} vs ${want}`);
    }),
  );
}

const std = (values: Float32Array) => {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
};

describe('split learning', () => {
  it('training lowers the loss', async () => {
    const { passive, active, schedule } = setup({ epochs: 8 });
    const losses = await trainSplit(passive, active, schedule.steps);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(mean(losses.slice(-3)) < 0.8 * mean(losses.slice(0, 3)), `${losses}`);
  });

  it('the cut-layer gradient is tf.grad of the composed model at the embedding', async () => {
    const { model, passive, active, schedule, data } = setup();
    const rows = schedule.rows(0);
    const labels = rows.map((row) => data.labels[row] as number);
    const expected = tf.tidy(() => {
      const composed = (e: tf.Tensor) =>
        batchLoss(activeLogits(model, e as tf.Tensor2D, gatherRows(data.active, rows)), labels, 3);
      const embedding = model.passiveBottom.apply(gatherRows(data.passive, rows)) as tf.Tensor2D;
      return Array.from(tf.grad(composed)(embedding).dataSync());
    });
    const reply = await active.receive(passive.embed(0));
    assert.equal(reply?.kind, 'gradient');
    assertClose(
      [Array.from(reply?.kind === 'gradient' ? reply.gradient.data : [])],
      [expected],
      1e-6,
    );
  });

  it('split training equals training the unsplit network centrally', async () => {
    // Same initial weights, same batches, Adam at each party vs one Adam over all weights.
    const split = setup({ epochs: 2 });
    await trainSplit(split.passive, split.active, split.schedule.steps);
    const central = setup({ epochs: 2 });
    trainCentral(
      central.model,
      { ...central.data, classes: 3 },
      central.schedule,
      tf.train.adam(0.01),
    );
    assertClose(weightsOf(split.model), weightsOf(central.model), 1e-4);
  });

  it('noise has the given scale on embeddings and gradients', async () => {
    const sigma = 0.5;
    const clean = setup();
    const noisy = setup({ noise: sigma });
    const [e0, e1] = [clean.passive.embed(0), noisy.passive.embed(0)];
    const diff = e1.embedding.data.map((v, i) => v - (e0.embedding.data[i] as number));
    assert.ok(Math.abs(std(diff) - sigma) < 0.1 * sigma, `embedding noise std ${std(diff)}`);
    // Same embedding into both active parties: their gradients differ by noise of std σ/batch.
    const [g0, g1] = [await clean.active.receive(e0), await noisy.active.receive(e0)];
    assert.ok(g0?.kind === 'gradient' && g1?.kind === 'gradient');
    const gdiff = g1.gradient.data.map((v, i) => v - (g0.gradient.data[i] as number));
    const expected = sigma / 32;
    assert.ok(
      Math.abs(std(gdiff) - expected) < 0.15 * expected,
      `gradient noise std ${std(gdiff)}`,
    );
  });

  it('refuses NaN or mis-shaped embeddings and keeps the active state', async () => {
    const { model, passive, active } = setup();
    const before = weightsOf(model);
    const good = passive.embed(0);
    const nan = good.embedding.data.slice();
    nan[7] = NaN;
    const bad: [Matrix, RegExp][] = [
      [
        { ...good.embedding, data: nan },
        /active: peer passive: embedding for step 0 has NaN at row 1/,
      ],
      [
        { rows: 31, cols: 6, data: good.embedding.data.subarray(0, 186) },
        /is 31 x 6, expected 32 x 6/,
      ],
    ];
    for (const [embedding, pattern] of bad) {
      await assert.rejects(active.receive({ ...good, embedding }), (error) => {
        return error instanceof PeerError && pattern.test(error.message);
      });
    }
    await assert.rejects(active.receive({ ...good, step: 3 }), /expected step 0/);
    assert.deepEqual(weightsOf(model), before);
    assert.equal((await active.receive(good))?.kind, 'gradient');
  });

  it('a NaN gradient rolls both parties back to the last step they share', async () => {
    const { model, passive, active, schedule } = setup();
    await trainSplit(passive, active, 1);
    const before = weightsOf(model);
    const corrupting = async (request: Uint8Array) => {
      const reply = decodeSplitMessage(
        await inProcessTransport(active)(request),
        'passive',
        'active',
      );
      if (reply.kind === 'gradient') reply.gradient.data[0] = NaN;
      return encodeSplitMessage(reply);
    };
    // Resume at step 1 with a transport that corrupts the active party's gradient.
    await assert.rejects(
      trainSplit(passive, active, schedule.steps, { from: 1, transport: corrupting }),
      (error) =>
        error instanceof PeerError &&
        /passive: peer active: gradient for step 1 has NaN/.test(error.message),
    );
    assert.deepEqual(weightsOf(model), before, 'active rolled back, passive never applied');
    assert.equal(active.pendingStep, undefined);
  });

  it('a peer that disappears times out, naming it, and the active update is undone', async () => {
    const { model, passive, active } = setup();
    const before = weightsOf(model);
    // The active party computes and updates, but its reply is lost.
    const lost = async (request: Uint8Array) => {
      await inProcessTransport(active)(request);
      return new Promise<Uint8Array>(() => {});
    };
    await assert.rejects(
      trainSplit(passive, active, 1, { transport: lost, timeoutMs: 50 }),
      (error) =>
        error instanceof PeerTimeoutError &&
        error.message === 'passive: peer active: no gradient for step 0 within 50 ms',
    );
    assert.deepEqual(weightsOf(model), before);
    // Training resumes from the same step.
    assert.equal((await trainSplit(passive, active, 1)).length, 1);
  });

  it('a retried step replaces the provisional one; an abort undoes it', async () => {
    const { model, passive, active } = setup();
    const before = weightsOf(model);
    const first = await active.receive(passive.embed(0));
    const again = await active.receive(passive.embed(0)); // the gradient was lost: retry
    assert.deepEqual(first, again);
    assert.equal(await active.receive({ kind: 'abort', step: 0, reason: 'test' }), undefined);
    assert.deepEqual(weightsOf(model), before);
  });

  it('refuses bad inputs with the party named', () => {
    const { model, schedule, data } = setup();
    const options = {
      name: 'passive',
      peer: 'active',
      schedule,
      bottom: model.passiveBottom,
      optimizer: tf.train.sgd(0.1),
    };
    const nan = data.passive.data.slice();
    nan[11] = NaN;
    assert.throws(
      () => new PassiveParty({ ...options, features: { ...data.passive, data: nan } }),
      (error) =>
        error instanceof VerticalInputError &&
        /passive: feature 1 of row 2 is NaN/.test(error.message),
    );
    assert.throws(
      () =>
        new PassiveParty({
          ...options,
          features: { ...data.passive, rows: 95, data: nan.subarray(0, 475) },
        }),
      /features have 95 rows, the schedule aligns 96/,
    );
    assert.throws(
      () => new PassiveParty({ ...options, features: data.passive, noise: -1 }),
      /noise/,
    );
    assert.throws(
      () =>
        new ActiveParty({
          ...options,
          name: 'active',
          peer: 'passive',
          features: data.active,
          labels: data.labels.map((l, i) => (i === 4 ? 9 : l)),
          classes: 3,
          bottom: model.activeBottom,
          top: model.top,
        }),
      /active: label 9 of row 4 is outside \[0, 3\)/,
    );
  });

  it('aligns rows by id and names unknown ids', () => {
    const features = { rows: 3, cols: 2, data: Float32Array.from([0, 1, 10, 11, 20, 21]) };
    const aligned = alignRows('passive', ['a', 'b', 'c'], features, ['c', 'a']);
    assert.deepEqual(Array.from(aligned.features.data), [20, 21, 0, 1]);
    assert.throws(
      () => alignRows('passive', ['a', 'b', 'c'], features, ['a', 'zz']),
      /passive: aligned id "zz" is not one of its ids/,
    );
  });

  it('the schedule is shared and covers every row once per epoch', () => {
    const make = () => new BatchSchedule({ count: 10, batchSize: 4, epochs: 2, seed: 'x' });
    const [a, b] = [make(), make()];
    assert.equal(a.steps, 6);
    for (let step = 0; step < a.steps; step++) assert.deepEqual(a.rows(step), b.rows(step));
    const epoch = [0, 1, 2].flatMap((step) => a.rows(step)).sort((x, y) => x - y);
    assert.deepEqual(epoch, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.throws(() => a.rows(6), /outside/);
  });

  it('encodes messages losslessly and refuses malformed matrices', () => {
    const message = {
      kind: 'gradient' as const,
      step: 7,
      gradient: { rows: 2, cols: 2, data: Float32Array.from([1.5, -0, 3e-38, -7]) },
    };
    assert.deepEqual(decodeSplitMessage(encodeSplitMessage(message), 'p', 'a'), message);
    const truncated = encodeSplitMessage({
      ...message,
      gradient: { ...message.gradient, rows: 3 },
    });
    assert.throws(() => decodeSplitMessage(truncated, 'p', 'a'), /p: peer a: matrix of 3 x 2/);
  });
});
