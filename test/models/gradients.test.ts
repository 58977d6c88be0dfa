// Sepal's gradient overrides (src/models/gradients.ts) against tfjs's own gradient kernels, on
// the cpu backend, which has all of them. The overrides are installed by importing tf.ts.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tf, useBackend } from '../../src/models/tf.js';

before(() => useBackend('cpu'));

function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const e = expected.dataSync();
  const scale = Math.max(1, ...Array.from(e, Math.abs));
  const worst = Math.max(...Array.from(a, (v, i) => Math.abs(v - (e[i] as number))));
  assert.ok(worst <= 1e-4 * scale, `${what}: differs by ${worst}`);
}

const random = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** Gradients of sum(op(inputs) * weights) with respect to each input: a fixed random dy. */
function gradients(op: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed: number) {
  const dy = random(op(...inputs).shape, seed);
  return { dy, grads: tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), dy)))(inputs) };
}

describe('gradient overrides match tfjs', () => {
  for (const [transposeA, transposeB] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    it(`matMul with transposeA=${transposeA}, transposeB=${transposeB} (batched too)`, () => {
      for (const batch of [[], [2]]) {
        const a = random([...batch, ...(transposeA ? [4, 3] : [3, 4])], 1);
        const b = random([...batch, ...(transposeB ? [5, 4] : [4, 5])], 2);
        const { dy, grads } = gradients(
          (x, y) => tf.matMul(x, y, transposeA, transposeB),
          [a, b],
          3,
        );
        // tfjs-core's BatchMatMul_grad, computed with transpose flags.
        const expectedA = transposeA
          ? tf.matMul(b, dy, transposeB, true)
          : tf.matMul(dy, b, false, !transposeB);
        const expectedB = transposeB
          ? tf.matMul(dy, a, true, transposeA)
          : tf.matMul(a, dy, !transposeA, false);
        assertClose(grads[0] as tf.Tensor, expectedA, 'da');
        assertClose(grads[1] as tf.Tensor, expectedB, 'db');
      }
    });
  }

  for (const pad of ['same', 'valid'] as const) {
    for (const kernel of [3, 4, 5]) {
      it(`conv2d, ${kernel}x${kernel} kernel, '${pad}' padding`, () => {
        const x = random([2, 7, 6, 3], 4) as tf.Tensor4D;
        const w = random([kernel, kernel, 3, 4], 5) as tf.Tensor4D;
        const { dy, grads } = gradients(
          (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad),
          [x, w],
          6,
        );
        const expectedFilter = tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy },
            { strides: 1, pad, dataFormat: 'NHWC', filterShape: w.shape },
          ) as tf.Tensor;
        assertClose(
          grads[0] as tf.Tensor,
          tf.conv2dTranspose(dy as tf.Tensor4D, w, x.shape, 1, pad),
          'dx',
        );
        assertClose(grads[1] as tf.Tensor, expectedFilter, 'dW');
      });
    }
  }

  it('conv2d with stride 2 keeps tfjs gradient', () => {
    const x = random([1, 8, 8, 2], 7) as tf.Tensor4D;
    const w = random([3, 3, 2, 2], 8) as tf.Tensor4D;
    const { dy, grads } = gradients((a) => tf.conv2d(a as tf.Tensor4D, w, 2, 'same'), [x], 9);
    assertClose(
      grads[0] as tf.Tensor,
      tf.conv2dTranspose(dy as tf.Tensor4D, w, x.shape, 2, 'same'),
      'dx',
    );
  });

  for (const [size, stride] of [
    [2, 2],
    [3, 1],
  ] as const) {
    it(`maxPool ${size}x${size}, stride ${stride}`, () => {
      const x = random([2, 6, 4, 3], 10) as tf.Tensor4D; // continuous values: no ties
      const pool = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, size, stride, 'valid');
      const { dy, grads } = gradients(pool, [x], 11);
      const expected = tf
        .engine()
        .runKernel(
          'MaxPoolGrad',
          { dy, input: x, output: pool(x) },
          { filterSize: size, strides: stride, pad: 'valid' },
        ) as tf.Tensor;
      assertClose(grads[0] as tf.Tensor, expected, 'dx');
    });
  }
});
