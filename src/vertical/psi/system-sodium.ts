/**
 * Node only: the PSI group's batches on the system's libsodium, through the native addon
 * (native/sodium_ristretto.c), when it was built and the library is installed (Debian:
 * libsodium23). The same C library as sodium-group.ts, natively instead of in WebAssembly, so the
 * same bytes (tested), in about half the time; worker-group.ts prefers it.
 *
 * The ids' expand_message_xmd runs here, with @noble/curves' implementation (as in the other two
 * groups) over node:crypto's SHA-512; the native side maps and multiplies a whole batch
 * in one call.
 */
import { createHash } from 'node:crypto';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { utf8, zeroize } from '../../crypto/bytes.js';
import { nativeKernels, type NativeKernels } from '../../crypto/native-kernels.js';
import { checkBatch, ELEMENT_BYTES, InvalidPointError } from './group.js';
import type { RistrettoBatches } from './sodium-group.js';

const UNIFORM_BYTES = 64;

/** SHA-512 as @noble's expand_message_xmd expects it, computed by node:crypto (OpenSSL). */
const nodeSha512 = Object.assign(
  (message: Uint8Array) => {
    const digest = createHash('sha512').update(message).digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
  },
  { blockLen: sha512.blockLen, outputLen: sha512.outputLen, canXOF: false, create: sha512.create },
);

type Ristretto = Required<
  Pick<NativeKernels, 'ristrettoHashMultiply' | 'ristrettoMultiply' | 'ristrettoIsValidPoint'>
>;

function systemBatches(native: Ristretto): RistrettoBatches {
  return {
    name: 'system libsodium',

    hashAndMultiply(ids, scalar, dst) {
      checkBatch(undefined, scalar);
      const uniform = new Uint8Array(ids.length * UNIFORM_BYTES);
      try {
        const tag = utf8(dst); // once per batch rather than inside every expansion
        ids.forEach((id, i) => {
          const bytes = expand_message_xmd(utf8(id), tag, UNIFORM_BYTES, nodeSha512);
          uniform.set(bytes, i * UNIFORM_BYTES);
          zeroize(bytes);
        });
        const out = new Uint8Array(ids.length * ELEMENT_BYTES);
        if (native.ristrettoHashMultiply(scalar, uniform, out) >= 0) {
          // Only if H(id)·k were the identity: probability 2^-252 for a scalar in [1, order).
          throw new Error('libsodium: k·H(id) is the identity');
        }
        return out;
      } finally {
        // Hashes of the ids, wiped as the WebAssembly group wipes its copies.
        zeroize(uniform);
      }
    },

    multiply(points, scalar) {
      checkBatch(points, scalar);
      const out = new Uint8Array(points.length);
      const refused = native.ristrettoMultiply(scalar, points, out);
      if (refused >= 0) {
        const point = points.subarray(refused * ELEMENT_BYTES, (refused + 1) * ELEMENT_BYTES);
        throw new InvalidPointError(
          refused,
          native.ristrettoIsValidPoint(point)
            ? 'the identity element'
            : 'not a canonical ristretto255 encoding',
        );
      }
      return out;
    },
  };
}

const { ristrettoHashMultiply, ristrettoMultiply, ristrettoIsValidPoint } = nativeKernels ?? {};

/** Undefined when the addon was not built or found no libsodium. */
export const systemSodium: RistrettoBatches | undefined =
  ristrettoHashMultiply && ristrettoMultiply && ristrettoIsValidPoint
    ? systemBatches({ ristrettoHashMultiply, ristrettoMultiply, ristrettoIsValidPoint })
    : undefined;
