import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ImageDataset } from '../../src/data/dataset.js';
import {
  bundledSubsetDir,
  DEBIAN_FASHION_MNIST_DIR,
  loadFashionMnist,
} from '../../src/data/fashion-mnist.js';
import { encodeIdx } from '../../src/data/idx.js';

function classCounts(dataset: ImageDataset): number[] {
  const counts = new Array<number>(dataset.classes).fill(0);
  for (const label of dataset.labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

function assertWellFormed(dataset: ImageDataset, count: number): void {
  assert.equal(dataset.count, count);
  assert.equal(dataset.height, 28);
  assert.equal(dataset.width, 28);
  assert.equal(dataset.classes, 10);
  assert.equal(dataset.images.length, count * 28 * 28);
  assert.equal(dataset.labels.length, count);
  // Shared, so that the worker pool reads the same memory.
  assert.ok(dataset.images.buffer instanceof SharedArrayBuffer);
  let min = Infinity;
  let max = -Infinity;
  for (const value of dataset.images) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
}

describe('loadFashionMnist', () => {
  it("loads Debian's full Fashion-MNIST: 60,000 + 10,000 images, balanced classes", async () => {
    // CI installs the package (.ci/run); a machine without it should fail here, not skip.
    assert.ok(
      existsSync(DEBIAN_FASHION_MNIST_DIR),
      `${DEBIAN_FASHION_MNIST_DIR} is missing: apt-get install dataset-fashion-mnist`,
    );
    const { train, test, source } = await loadFashionMnist();
    assert.equal(source, DEBIAN_FASHION_MNIST_DIR);
    assertWellFormed(train, 60_000);
    assertWellFormed(test, 10_000);
    assert.deepEqual(classCounts(train), new Array(10).fill(6000));
    assert.deepEqual(classCounts(test), new Array(10).fill(1000));
    // The first training label of the original file is 9 (ankle boot).
    assert.equal(train.labels[0], 9);
  });

  it('loads the bundled subset when asked: 600 + 100 images per class', async () => {
    const { train, test, source } = await loadFashionMnist({ subset: true });
    assert.equal(source, bundledSubsetDir());
    assertWellFormed(train, 6000);
    assertWellFormed(test, 1000);
    assert.deepEqual(classCounts(train), new Array(10).fill(600));
    assert.deepEqual(classCounts(test), new Array(10).fill(100));
  });

  describe('with an explicit directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sepal-fmnist-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, shape: number[], data: Uint8Array) =>
      writeFileSync(join(dir, name), encodeIdx({ shape, data }));
    const pixels = (count: number) => Uint8Array.from({ length: count * 784 }, (_, i) => i % 256);

    it('reads uncompressed files under their original names, scaling pixels to [0, 1]', async () => {
      write('train-images-idx3-ubyte', [3, 28, 28], pixels(3));
      write('train-labels-idx1-ubyte', [3], Uint8Array.of(0, 9, 4));
      write('t10k-images-idx3-ubyte', [1, 28, 28], pixels(1));
      write('t10k-labels-idx1-ubyte', [1], Uint8Array.of(2));
      const { train, test, source } = await loadFashionMnist({ dataDir: dir });
      assert.equal(source, dir);
      assert.deepEqual([...train.labels], [0, 9, 4]);
      assert.equal(train.images[255], 1);
      assert.equal(train.images[51], Math.fround(51 / 255));
      assert.equal(test.count, 1);
    });

    it('names the label file whose count disagrees with the images', async () => {
      write('train-labels-idx1-ubyte', [2], Uint8Array.of(0, 9));
      await assert.rejects(
        loadFashionMnist({ dataDir: dir }),
        /train-\*: labels have shape \[2\], expected \[3\]/,
      );
    });

    it('names a label outside the 10 classes', async () => {
      write('train-labels-idx1-ubyte', [3], Uint8Array.of(0, 10, 4));
      await assert.rejects(
        loadFashionMnist({ dataDir: dir }),
        /label 10 at index 1 is outside \[0, 10\)/,
      );
    });

    it('names the missing file', async () => {
      rmSync(join(dir, 't10k-labels-idx1-ubyte'));
      await assert.rejects(
        loadFashionMnist({ dataDir: dir }),
        new RegExp(`${dir} has neither t10k-labels-idx1-ubyte.gz nor t10k-labels-idx1-ubyte`),
      );
    });
  });

  it('refuses dataDir together with subset', async () => {
    await assert.rejects(
      loadFashionMnist({ dataDir: '/x', subset: true }),
      /either dataDir or subset/,
    );
  });
});
