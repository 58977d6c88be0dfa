/**
 * Gradient overrides that keep training on the wasm backend's fast kernels. Each computes the
 * same gradient as tfjs's default (test/models/gradients.test.ts compares them on the cpu
 * backend); only the kernels differ. Measured on this project's models, a CNN training step is
 * several times faster on wasm with them, and without the Conv2D one it cannot run there at all.
 *
 * - MatMul: tfjs differentiates `a·b` with `matMul(dy, b, false, true)` and `matMul(a, dy, true,
 *   false)`. wasm runs a matMul with a transpose flag ~8x slower than a plain one (it leaves its
 *   XNNPACK path), so the transposes become separate ops.
 * - Conv2D, for stride 1, no dilation, NHWC and 'same' or 'valid' padding (other configurations
 *   keep tfjs's gradient): wasm has no Conv2DBackpropFilter kernel, and its Conv2DBackpropInput is
 *   ~9x slower than a forward conv2d. Both gradients are forward convolutions (with k = kernel
 *   size, `before`/`after` the padding on each side, xpad the padded input):
 *     dx = conv2d(dy padded by k-1-before / k-1-after, W flipped in space with c and o swapped)
 *     dW[i, j, c, o] = sum_{b,h,w} xpad[b, h+i, w+j, c] * dy[b, h, w, o]
 *                    = conv2d(xpadᵀ [c, H, W, b], dyᵀ [h, w, b, o], 'valid')[c, i, j, o]
 * - MaxPool, for windows that tile the input exactly (size = stride, 'valid', divisible sides):
 *   wasm's MaxPoolGrad is ~30x slower than the pooling itself. The gradient routes dy to the
 *   window's maximum, as tfjs's gradient of a `max` reduction does: dx = dy * (x == y), with y
 *   and dy broadcast over each window. (A window with tied maxima passes dy to each tie
 *   where MaxPoolGrad picks one; after a ReLU, ties are zeros, whose gradient the ReLU stops.)
 *
 * Registered once, globally for all backends, on import: tfjs keeps one gradient registry.
 */
import * as tf from '@tensorflow/tfjs';

type GradFunc = tf.GradConfig['gradFunc'];
type Padding = 'same' | 'valid';

/** Wraps tfjs's gradient for `kernelName`, replacing it where `override` returns one. */
function overrideGradient(
  kernelName: string,
  override: (
    dy: tf.Tensor,
    saved: tf.Tensor[],
    attrs: tf.NamedAttrMap,
  ) => ReturnType<GradFunc> | undefined,
): void {
  const original = tf.getGradient(kernelName);
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) =>
      override(dy as tf.Tensor, saved, attrs) ?? original.gradFunc(dy, saved, attrs),
  });
}

/** Swaps the last two axes. */
function transposeInner(x: tf.Tensor): tf.Tensor {
  const perm = [...Array(x.rank).keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [x.rank - 1, x.rank - 2];
  return tf.transpose(x, perm);
}

/** matMul(x, y, tx, ty) with the transposes done as separate ops. */
function matMul(x: tf.Tensor, tx: boolean, y: tf.Tensor, ty: boolean): tf.Tensor {
  return tf.matMul(tx ? transposeInner(x) : x, ty ? transposeInner(y) : y);
}

overrideGradient(tf.BatchMatMul, (dy, [a, b], attrs) => {
  const x = a as tf.Tensor;
  const y = b as tf.Tensor;
  // The four cases of tfjs-core's BatchMatMul_grad.
  switch (`${attrs.transposeA}/${attrs.transposeB}`) {
    case 'false/false':
      return { a: () => matMul(dy, false, y, true), b: () => matMul(x, true, dy, false) };
    case 'false/true':
      return { a: () => matMul(dy, false, y, false), b: () => matMul(dy, true, x, false) };
    case 'true/false':
      return { a: () => matMul(y, false, dy, true), b: () => matMul(x, false, dy, false) };
    default:
      return { a: () => matMul(y, true, dy, true), b: () => matMul(dy, true, x, true) };
  }
});

const isPadding = (value: unknown): value is Padding => value === 'same' || value === 'valid';
const isOnes = (value: unknown) =>
  value === 1 || (Array.isArray(value) && value.every((v) => v === 1));

/** Rows (or columns) of padding before and after for a stride-1 convolution, as tfjs pads. */
function padding(kernel: number, pad: Padding): [number, number] {
  // 'same' pads kernel-1 in total, the odd one after.
  const before = pad === 'same' ? Math.floor((kernel - 1) / 2) : 0;
  return [before, pad === 'same' ? kernel - 1 - before : 0];
}

function padSpatial(x: tf.Tensor4D, rows: [number, number], cols: [number, number]): tf.Tensor4D {
  return tf.pad(x, [[0, 0], rows, cols, [0, 0]]);
}

overrideGradient(tf.Conv2D, (dy, [x, filter], attrs) => {
  const { strides, dilations, pad, dataFormat } = attrs;
  if (!isOnes(strides) || !isOnes(dilations) || dataFormat !== 'NHWC') return undefined;
  if (!isPadding(pad)) return undefined;
  const w = filter as tf.Tensor4D;
  const [kh, kw] = w.shape;
  const [top, bottom] = padding(kh, pad);
  const [left, right] = padding(kw, pad);
  return {
    x: () => {
      const flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
      const grown = padSpatial(
        dy as tf.Tensor4D,
        [kh - 1 - top, kh - 1 - bottom],
        [kw - 1 - left, kw - 1 - right],
      );
      return tf.conv2d(grown, flipped, 1, 'valid');
    },
    filter: () => {
      const images = tf.transpose(
        padSpatial(x as tf.Tensor4D, [top, bottom], [left, right]),
        [3, 1, 2, 0],
      );
      const filters = tf.transpose(dy, [1, 2, 0, 3]);
      return tf.transpose(
        tf.conv2d(images as tf.Tensor4D, filters as tf.Tensor4D, 1, 'valid'),
        [1, 2, 0, 3],
      );
    },
  };
});

overrideGradient(tf.MaxPool, (dy, [x, y], attrs) => {
  const { filterSize, strides, pad } = attrs as {
    filterSize: unknown;
    strides: unknown;
    pad: unknown;
  };
  const [size, stride] = [filterSize, strides].map((v) => (Array.isArray(v) ? v : [v, v])) as [
    number[],
    number[],
  ];
  const [sh, sw] = size as [number, number];
  const input = x as tf.Tensor4D;
  const [batch, height, width, channels] = input.shape;
  const tiles = sh === stride[0] && sw === stride[1] && height % sh === 0 && width % sw === 0;
  if (pad !== 'valid' || !tiles) return undefined;
  // Each window becomes axes 1 and 3 of a 5-D view. y is spread over its window by a broadcast
  // multiply, not compared by a broadcast equal: wasm's broadcast equal is ~15x slower.
  const windows = [batch * (height / sh), sh, width / sw, sw, channels];
  const perWindow = [batch * (height / sh), 1, width / sw, 1, channels];
  return {
    x: () => {
      const spread = tf.mul(tf.reshape(y as tf.Tensor, perWindow), tf.ones([1, sh, 1, sw, 1]));
      const isMax = tf.cast(tf.equal(tf.reshape(input, windows), spread), 'float32');
      return tf.reshape(tf.mul(isMax, tf.reshape(dy, perWindow)), input.shape);
    },
  };
});
