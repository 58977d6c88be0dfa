/**
 * The one module of vertical/ that imports TensorFlow.js. Split learning uses tfjs's default
 * backend ('cpu' under Node); when src/models/tf.ts settles which backend Sepal runs (cpu or
 * wasm), this file re-exports that one instead and nothing else here changes.
 */
import * as tf from '@tensorflow/tfjs';

// Silences tfjs's "install tfjs-node" banner (tfjs-node needs a native download we cannot use).
tf.enableProdMode();

export { tf };
