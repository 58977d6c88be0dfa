// Makes data/fashion-mnist-subset from the full Fashion-MNIST installed by Debian's
// dataset-fashion-mnist package: the first TRAIN_PER_CLASS training and TEST_PER_CLASS test images
// of each class, in their original order. Deterministic: same input files, same output bytes
// (Node's gzip writes no timestamp or file name).
//
//   node --import tsx scripts/make-fashion-mnist-subset.mjs [sourceDir]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, readIdxFile } from '../src/data/idx.ts';

const TRAIN_PER_CLASS = 600;
const TEST_PER_CLASS = 100;
const CLASSES = 10;

const sourceDir = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const outDir = join(import.meta.dirname, '..', 'data', 'fashion-mnist-subset');

/** Indices of the first `perClass` examples of each class, in file order. */
function balancedSelection(labels, perClass) {
  const taken = new Array(CLASSES).fill(0);
  const selected = [];
  labels.data.forEach((label, index) => {
    if (taken[label] < perClass) {
      taken[label]++;
      selected.push(index);
    }
  });
  if (taken.some((n) => n < perClass)) throw new Error(`a class has fewer than ${perClass}`);
  return selected;
}

async function subset(prefix, perClass) {
  const images = await readIdxFile(join(sourceDir, `${prefix}-images-idx3-ubyte.gz`));
  const labels = await readIdxFile(join(sourceDir, `${prefix}-labels-idx1-ubyte.gz`));
  const [, height, width] = images.shape;
  const pixels = height * width;
  const selected = balancedSelection(labels, perClass);
  const imageData = new Uint8Array(selected.length * pixels);
  selected.forEach((index, i) =>
    imageData.set(images.data.subarray(index * pixels, (index + 1) * pixels), i * pixels),
  );
  const write = (name, array) => {
    const path = join(outDir, `${prefix}-${name}.gz`);
    writeFileSync(path, gzipSync(encodeIdx(array), { level: 9 }));
    console.log(`${path}: shape [${array.shape.join(', ')}]`);
  };
  write('images-idx3-ubyte', { shape: [selected.length, height, width], data: imageData });
  write('labels-idx1-ubyte', {
    shape: [selected.length],
    data: Uint8Array.from(selected, (index) => labels.data[index]),
  });
}

mkdirSync(outDir, { recursive: true });
await subset('train', TRAIN_PER_CLASS);
await subset('t10k', TEST_PER_CLASS);
