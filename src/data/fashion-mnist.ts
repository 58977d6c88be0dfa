/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 28x28 greyscale images of clothing in 10 classes.
 * Looked up in order: an explicit directory, Debian's dataset-fashion-mnist package, and the
 * class-balanced subset bundled in this repository (data/fashion-mnist-subset, see its LICENSE.md).
 * Each holds the four files under their original names, gzipped (`.gz`) or not.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageDatasetFromIdx, type ImageDataset } from './dataset.js';
import { readIdxFile } from './idx.js';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Where Debian's dataset-fashion-mnist package installs the full data set. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** `dir/name.gz` or else `dir/name`, or undefined when neither exists. */
function findFile(dir: string, name: string): string | undefined {
  return [`${name}.gz`, name].map((file) => join(dir, file)).find((path) => existsSync(path));
}

/**
 * The bundled subset, found by walking up from this module to the repository root: the module
 * runs both from src/data (under tsx) and from dist/src/data (compiled), at different depths.
 */
export function bundledSubsetDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'data', 'fashion-mnist-subset');
    if (findFile(candidate, FILES.trainImages)) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(
        `the bundled Fashion-MNIST subset (data/fashion-mnist-subset) was not found above ${fileURLToPath(import.meta.url)}`,
      );
    }
  }
}

export interface FashionMnistOptions {
  /** A directory holding the four files under their original names, gzipped or not. */
  readonly dataDir?: string;
  /** Use the bundled subset even when the full data set is installed. */
  readonly subset?: boolean;
}

export async function loadFashionMnist(
  options: FashionMnistOptions = {},
): Promise<{ train: ImageDataset; test: ImageDataset; source: string }> {
  const source = resolveDataDir(options);
  const read = (name: string) => {
    const path = findFile(source, name);
    if (path === undefined) {
      throw new Error(`${source} has neither ${name}.gz nor ${name} (Fashion-MNIST files)`);
    }
    return readIdxFile(path);
  };
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    read(FILES.trainImages),
    read(FILES.trainLabels),
    read(FILES.testImages),
    read(FILES.testLabels),
  ]);
  const classes = FASHION_MNIST_CLASSES.length;
  return {
    train: imageDatasetFromIdx(trainImages, trainLabels, classes, join(source, 'train-*')),
    test: imageDatasetFromIdx(testImages, testLabels, classes, join(source, 't10k-*')),
    source,
  };
}

function resolveDataDir(options: FashionMnistOptions): string {
  if (options.dataDir !== undefined) {
    if (options.subset) throw new Error('give either dataDir or subset, not both');
    return options.dataDir;
  }
  if (!options.subset && findFile(DEBIAN_FASHION_MNIST_DIR, FILES.trainImages)) {
    return DEBIAN_FASHION_MNIST_DIR;
  }
  return bundledSubsetDir();
}
