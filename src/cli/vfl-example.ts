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
import { simulatePsi } from '../vertical/psi/simulate.js';
import { startWorkerGroup } from '../vertical/psi/worker-group.js';
import { ActiveParty } from '../vertical/split/active.js';
import { alignRows } from '../vertical/split/align.js';
import { predictCentral, trainCentral } from '../vertical/split/central.js';
import { accuracy, predictSplit, trainSplit } from '../vertical/split/driver.js';
import { createSplitModel } from '../vertical/split/model.js';
import { PassiveParty } from '../vertical/split/passive.js';
import { BatchSchedule } from '../vertical/split/schedule.js';
import { tf } from '../vertical/split/tf.js';
import { exampleId, exampleRandom, holders, loadExampleParty } from './vfl-data.js';

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

const seconds = (since: number) => (performance.now() - since) / 1000;

export async function runVflExample(options: VflExampleOptions): Promise<VflReport> {
  const log = options.log ?? (() => {});
  // Each party's share, drawn exactly as `sepal vfl passive|active` draw theirs (vfl-data.ts).
  const [passiveData, activeData] = await Promise.all([
    loadExampleParty('passive', options),
    loadExampleParty('active', options),
  ]);
  const { source, examples, classes } = activeData;
  const random = (label: string) => exampleRandom(options.seed, label);
  const [passiveIds, activeIds] = [passiveData.ids, activeData.ids];

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
  const truth = new Set(holders(examples, options.seed).common.map(exampleId));
  const psiExact =
    aligned.length === truth.size &&
    aligned.every((id) => truth.has(id)) &&
    psi.results[1].ids.every((id, k) => id === aligned[k]);

  // Each party lays out its own rows in the aligned order.
  const passiveFeatures = alignRows(
    'passive',
    passiveIds,
    passiveData.features,
    psi.results[0].ids,
  ).features;
  const activeAligned = alignRows('active', activeIds, activeData.features, psi.results[1].ids);
  const labels = activeAligned.rows.map((row) => (activeData.labels as number[])[row] as number);

  const pixels = passiveData.pixels;
  const arch = {
    passiveInputs: pixels,
    activeInputs: pixels,
    embedding: 64,
    hidden: 64,
    classes,
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
    classes,
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
    classes,
  };
  const centralLosses = trainCentral(central, centralData, schedule, optimizer());
  const centralSeconds = seconds(centralStart);

  const [testLeft, testRight] = [passiveData.test.features, activeData.test.features];
  const testLabels = activeData.test.labels as ArrayLike<number>;
  const splitAccuracy = accuracy(predictSplit(passive, active, testLeft, testRight), testLabels);
  const centralAccuracy = accuracy(predictCentral(central, testLeft, testRight), testLabels);
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
