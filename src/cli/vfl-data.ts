/**
 * The `sepal vfl` example's data, for either party on its own: who holds which image is a seeded
 * draw over the first `examples` training images (10% passive only, 10% active only, 80% both),
 * each party keeps its rows in its own shuffled order, and the passive party holds the left 14
 * pixel columns while the active party holds the right 14 and the labels. A party process loads
 * only its own share: the same seed gives both processes the draw the one-process example makes.
 */
import { type RandomSource, seededRandom, shuffle } from '../crypto/random.js';
import type { ImageDataset } from '../data/dataset.js';
import { loadFashionMnist } from '../data/fashion-mnist.js';
import type { Matrix } from '../vertical/split/messages.js';

export type Role = 'passive' | 'active';

export interface ExampleDataOptions {
  examples: number;
  seed: number;
  dataDir?: string;
  subset?: boolean;
}

export interface ExampleParty {
  role: Role;
  source: string;
  /** How many training images the draw was over. */
  examples: number;
  /** This party's ids, `fashion-mnist/train/<index>`, in its own order. */
  ids: string[];
  /** Its pixel columns of those images, one row per id. */
  features: Matrix;
  /** The active party's labels, one per id; the passive party holds none. */
  labels: number[] | undefined;
  /** Every test image, its columns (and at the active party the labels), aligned by position. */
  test: { features: Matrix; labels: ArrayLike<number> | undefined };
  /** Values per feature row (14 columns x image height). */
  pixels: number;
  classes: number;
}

const HALF = 14;

/** The example's seeded randomness for `label` (holders, row orders, PSI, noise). */
export const exampleRandom = (seed: number, label: string): RandomSource =>
  seededRandom(seed, `sepal/vfl-example/${label}`);

export const exampleId = (index: number) => `fashion-mnist/train/${index}`;

/** Pixel columns [from, from + 14) of the given images, one row of features per image. */
export function columns(dataset: ImageDataset, images: readonly number[], from: number): Matrix {
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

/** Who holds which image: each party's images in its own order, and those both hold. */
export function holders(examples: number, seed: number) {
  const everyone = shuffle(
    Array.from({ length: examples }, (_, i) => i),
    exampleRandom(seed, 'holders'),
  );
  const tenth = Math.round(examples / 10);
  const passiveOnly = new Set(everyone.slice(0, tenth));
  const activeOnly = new Set(everyone.slice(tenth, 2 * tenth));
  return {
    passive: shuffle(
      everyone.filter((i) => !activeOnly.has(i)),
      exampleRandom(seed, 'passive-order'),
    ),
    active: shuffle(
      everyone.filter((i) => !passiveOnly.has(i)),
      exampleRandom(seed, 'active-order'),
    ),
    common: everyone.slice(2 * tenth),
  };
}

/** Loads one party's share of the example. */
export async function loadExampleParty(
  role: Role,
  options: ExampleDataOptions,
): Promise<ExampleParty> {
  const { train, test, source } = await loadFashionMnist({
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.subset && { subset: true }),
  });
  const examples = Math.min(options.examples, train.count);
  const images = holders(examples, options.seed)[role];
  const from = role === 'passive' ? 0 : HALF;
  const everyTest = Array.from({ length: test.count }, (_, i) => i);
  return {
    role,
    source,
    examples,
    ids: images.map(exampleId),
    features: columns(train, images, from),
    labels: role === 'active' ? images.map((i) => train.labels[i] as number) : undefined,
    test: {
      features: columns(test, everyTest, from),
      labels: role === 'active' ? test.labels : undefined,
    },
    pixels: train.height * HALF,
    classes: train.classes,
  };
}
