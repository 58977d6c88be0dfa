/**
 * Node only: the PSI group's batches through Sepal's addon, when it was built, found the system's
 * libsodium (Debian: libsodium23) and found Node's OpenSSL X25519. The same functions as
 * sodium-group.ts computes in WebAssembly, so the same bytes (tested), in under half the time;
 * worker-group.ts prefers them.
 *
 * A batch of ids is three native calls: the whole hash_to_ristretto255 on libsodium
 * (expand_message_xmd over its SHA-512, the one-way map; native/sodium_ristretto.c), the
 * encodings' squares in constant time (native/field25519.c), and X25519 on OpenSSL
 * (native/x25519.c). The ids go down as one buffer of their UTF-8 bytes.
 */
import { utf8, zeroize } from '../../crypto/bytes.js';
import { nativeKernels, type NativeKernels } from '../../crypto/native-kernels.js';
import { checkBatch, checkPeerPoints, ELEMENT_BYTES, type PsiBatches } from './group.js';

export type Kernels = Required<
  Pick<NativeKernels, 'ristrettoHash' | 'fieldSquare25519' | 'x25519'>
>;

const encoder = new TextEncoder();
const MAX_BATCH_BYTES = 0xffffffff;

/** The ids' UTF-8 bytes back to back, and where each ends (as utf8() encodes them). */
export function packed(ids: readonly string[]): { messages: Uint8Array; ends: Uint32Array } {
  // A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate pair, 2 units, takes 4).
  const room = ids.reduce((bytes, id) => bytes + 3 * id.length, 0);
  if (room > MAX_BATCH_BYTES) {
    // Offsets are 32-bit; worker-group.ts's chunks stay far below this.
    throw new RangeError(`ids: a batch holds at most ${MAX_BATCH_BYTES} bytes of UTF-8`);
  }
  const messages = new Uint8Array(room);
  const ends = new Uint32Array(ids.length);
  let end = 0;
  ids.forEach((id, i) => {
    end += encoder.encodeInto(id, messages.subarray(end)).written;
    ends[i] = end;
  });
  return { messages, ends };
}

/** The batches on `native`'s functions (exported so that a test can watch what they are given). */
export function batchesOn(native: Kernels): PsiBatches {
  /** X25519 of `points` into a new array. */
  const x25519 = (points: Uint8Array, scalar: Uint8Array): Uint8Array => {
    const out = new Uint8Array(points.length);
    if (native.x25519(scalar, points, out) >= 0) {
      // Unreachable: checkPeerPoints refused every point of small order, and H(id) is one only
      // if it is the identity (probability 2^-252).
      throw new Error('OpenSSL: an X25519 product is zero');
    }
    return out;
  };

  return {
    name: 'native',

    hashAndMultiply(ids, scalar, dst) {
      checkBatch(undefined, scalar);
      const { messages, ends } = packed(ids);
      const points = new Uint8Array(ids.length * ELEMENT_BYTES);
      try {
        native.ristrettoHash(messages, ends, utf8(dst), points);
        native.fieldSquare25519(points, points);
        return x25519(points, scalar);
      } finally {
        // The ids and their hashes, wiped as the WebAssembly group wipes its copies.
        zeroize(messages);
        zeroize(points);
      }
    },

    multiply(points, scalar) {
      checkBatch(points, scalar);
      checkPeerPoints(points);
      return x25519(points, scalar);
    },
  };
}

const { ristrettoHash, fieldSquare25519, x25519 } = nativeKernels ?? {};

/** Undefined when the addon was not built, or found no libsodium or no OpenSSL X25519. */
export const nativeBatches: PsiBatches | undefined =
  ristrettoHash && fieldSquare25519 && x25519
    ? batchesOn({ ristrettoHash, fieldSquare25519, x25519 })
    : undefined;
