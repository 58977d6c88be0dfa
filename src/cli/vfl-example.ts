/**
 * The `sepal vfl` example: vertical federated learning on Fashion-MNIST in one process.
 *
 * Everything random (who holds which image, row orders, PSI scalars, batches, initial weights,
 * noise) derives from `seed`, so a run can be replayed and runs with different noise are paired.
 *
 * Data: the first `examples` training images, each with the stable id `fashion-mnist/train/<i>`.
 * A seeded draw puts 10% of them at the passive party only, 10% at the active party only and 80%
 * at both; each party keeps its rows in its own (shuffled) order. The passive party holds the
 * left 14 pixel columns of its images; the active party holds the right 14 and the labels.
 *
 * Run: PSI aligns the ids (checked against the truth), each party lays out its rows in the
 * aligned order, split training runs for `epochs`, and the same network, from the same initial
 * weights and on the same batches, is trained centrally on the joined halves of the intersection.
 * Both are evaluated on the 10,000 test images (which both parties hold, split the same way and
 * already aligned by position).
 */
import { seededRandom, shuffle } from '../crypto/random.js';
import type { ImageDataset } from '../data/dataset.js';
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { simulatePsi } from '../vertical/psi/simulate.js';
import { startWorkerGroup } from '../vertical/psi/worker-group.js';
import { ActiveParty } from '../vertical/split/active.js';
import { alignRows } from '../vertical/split/align.js';
import { predictCentral, trainCentral } from '../vertical/split/central.js';
import { accuracy, predictSplit, trainSplit } from '../vertical/split/driver.js';
import type { Matrix } from '../vertical/split/messages.js';
import { createSplitModel } from '../vertical/split/model.js';
import { PassiveParty } from '../vertical/split/passive.js';
import { BatchSchedule } from '../vertical/split/schedule.js';
import { tf } from '../vertical/split/tf.js';

export interface VflExampleOptions {
  examples: number;
  epochs: number;
  noise: number;
  seed: number;
  batchSize: number;
  learningRate: number;
  dataDir?: string;
  subset?: boolean;
  /** Progress lines (never the results), e.g. to stderr. */
  log?: (line: string) => void;
}

export interface VflReport {
  source: string;
  examples: number;
  ids: { passive: number; active: number; common: number; psiExact: boolean };
  psi: { seconds: number; partySeconds: [number, number]; bytes: [number, number] };
  training: {
    epochs: number;
    steps: number;
    noise: number;
    splitSeconds: number;
    centralSeconds: number;
  };
  finalLoss: { split: number; central: number };
  testAccuracy: { split: number; central: number; gapPoints: number };
}

const HALF = 14;

/** Pixel columns [from, from + HALF) of the given images, one row of features per image. */
function columns(dataset: ImageDataset, images: readonly number[], from: number): Matrix {
  const { height, width } = dataset;
  const cols = height * HALF;
  const data = new Float32Array(images.length * cols);
  images.forEach((image, i) => {
    for (let y = 0; y < height; y++) {
      const start = (image * height + y) * width + from;
      data.set(dataset.images.subarray(start, start + HALF), i * cols + y * HALF);
    }
  });
  return { rows: images.length, cols, data };
}

const idOf = (index: number) => `fashion-mnist/train/${index}`;
const seconds = (since: number) => (performance.now() - since) / 1000;

export async function runVflExample(options: VflExampleOptions): Promise<VflReport> {
  const log = options.log ?? (() => {});
  const { train, test, source } = await loadFashionMnist({
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.subset && { subset: true }),
  });
  const examples = Math.min(options.examples, train.count);

  // Who holds what: a seeded permutation, first 10% passive-only, next 10% active-only.
  const random = (label: string) => seededRandom(options.seed, `sepal/vfl-example/${label}`);
  const everyone = shuffle(
    Array.from({ length: examples }, (_, i) => i),
    random('holders'),
  );
  const tenth = Math.round(examples / 10);
  const passiveOnly = new Set(everyone.slice(0, tenth));
  const activeOnly = new Set(everyone.slice(tenth, 2 * tenth));
  const passiveImages = shuffle(
    everyone.filter((i) => !activeOnly.has(i)),
    random('passive-order'),
  );
  const activeImages = shuffle(
    everyone.filter((i) => !passiveOnly.has(i)),
    random('active-order'),
  );
  const [passiveIds, activeIds] = [passiveImages.map(idOf), activeImages.map(idOf)];

  log(
    `PSI: ${passiveIds.length} ids at the passive party, ${activeIds.length} at the active party`,
  );
  const psiStart = performance.now();
  // Seeded scalars and shuffles make the aligned order, hence the batches, replayable: fine for
  // a simulation, never for a deployment (PsiParty defaults to the platform CSPRNG).
  // Both parties share one pool of worker threads (libsodium on every core), taking turns.
  const psiGroup = await startWorkerGroup();
  const psi = await simulatePsi(
    { name: 'passive', ids: passiveIds, random: random('psi-passive') },
    { name: 'active', ids: activeIds, random: random('psi-active') },
    { group: psiGroup },
  ).finally(() => psiGroup.close());
  const psiSeconds = seconds(psiStart);
  const aligned = psi.results[0].ids;
  const truth = new Set(everyone.slice(2 * tenth).map(idOf));
  const psiExact =
    aligned.length === truth.size &&
    aligned.every((id) => truth.has(id)) &&
    psi.results[1].ids.every((id, k) => id === aligned[k]);

  // Each party lays out its own rows in the aligned order.
  const passiveFeatures = alignRows(
    'passive',
    passiveIds,
    columns(train, passiveImages, 0),
    psi.results[0].ids,
  ).features;
  const activeAligned = alignRows(
    'active',
    activeIds,
    columns(train, activeImages, HALF),
    psi.results[1].ids,
  );
  const labels = activeAligned.rows.map(
    (row) => train.labels[activeImages[row] as number] as number,
  );

  const pixels = train.height * HALF;
  const arch = {
    passiveInputs: pixels,
    activeInputs: pixels,
    embedding: 64,
    hidden: 64,
    classes: train.classes,
  };
  const schedule = new BatchSchedule({
    count: aligned.length,
    batchSize: options.batchSize,
    epochs: options.epochs,
    seed: options.seed,
  });
  const optimizer = () => tf.train.adam(options.learningRate);

  log(
    `split training: ${aligned.length} aligned rows, ${schedule.steps} steps, noise ${options.noise}`,
  );
  const split = createSplitModel(arch, options.seed);
  const common = { schedule, noise: options.noise };
  const passive = new PassiveParty({
    ...common,
    name: 'passive',
    peer: 'active',
    features: passiveFeatures,
    bottom: split.passiveBottom,
    optimizer: optimizer(),
    random: random('passive-noise'),
  });
  const active = new ActiveParty({
    ...common,
    name: 'active',
    peer: 'passive',
    features: activeAligned.features,
    labels,
    classes: train.classes,
    bottom: split.activeBottom,
    top: split.top,
    optimizer: optimizer(),
    random: random('active-noise'),
  });
  const splitStart = performance.now();
  const splitLosses = await trainSplit(passive, active, schedule.steps, {
    onStep: (step) => {
      if ((step + 1) % schedule.stepsPerEpoch === 0) {
        log(
          `  epoch ${(step + 1) / schedule.stepsPerEpoch}/${options.epochs} (${seconds(splitStart).toFixed(1)} s)`,
        );
      }
    },
  });
  const splitSeconds = seconds(splitStart);

  log('central training on the joined intersection');
  const central = createSplitModel(arch, options.seed);
  const centralStart = performance.now();
  const centralData = {
    passive: passiveFeatures,
    active: activeAligned.features,
    labels,
    classes: train.classes,
  };
  const centralLosses = trainCentral(central, centralData, schedule, optimizer());
  const centralSeconds = seconds(centralStart);

  const everyTest = Array.from({ length: test.count }, (_, i) => i);
  const [testLeft, testRight] = [columns(test, everyTest, 0), columns(test, everyTest, HALF)];
  const splitAccuracy = accuracy(predictSplit(passive, active, testLeft, testRight), test.labels);
  const centralAccuracy = accuracy(predictCentral(central, testLeft, testRight), test.labels);
  const lastEpochMean = (losses: number[]) => {
    const last = losses.slice(-schedule.stepsPerEpoch);
    return last.reduce((sum, loss) => sum + loss, 0) / last.length;
  };

  return {
    source,
    examples,
    ids: { passive: passiveIds.length, active: activeIds.length, common: aligned.length, psiExact },
    psi: {
      seconds: psiSeconds,
      partySeconds: [psi.milliseconds[0] / 1000, psi.milliseconds[1] / 1000],
      bytes: psi.bytes,
    },
    training: {
      epochs: options.epochs,
      steps: schedule.steps,
      noise: options.noise,
      splitSeconds,
      centralSeconds,
    },
    finalLoss: { split: lastEpochMean(splitLosses), central: lastEpochMean(centralLosses) },
    testAccuracy: {
      split: splitAccuracy,
      central: centralAccuracy,
      gapPoints: (centralAccuracy - splitAccuracy) * 100,
    },
  };
}
