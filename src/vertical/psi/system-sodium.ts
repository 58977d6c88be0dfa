/**
 * Node only: the PSI group's batches on the system's libsodium, through the native addon
 * (native/sodium_ristretto.c), when it was built and the library is installed (Debian:
 * libsodium23). The same C library as sodium-group.ts, natively instead of in WebAssembly, so the
 * same bytes (tested), in about half the time; worker-group.ts prefers it.
 *
 * A batch is one native call: the ids go down as one buffer of their UTF-8 bytes, and the addon
 * runs the whole hash_to_ristretto255 (expand_message_xmd over libsodium's SHA-512, the one-way
 * map) and the multiplication for each.
 */
import { utf8, zeroize } from '../../crypto/bytes.js';
import { nativeKernels, type NativeKernels } from '../../crypto/native-kernels.js';
import { checkBatch, ELEMENT_BYTES, InvalidPointError } from './group.js';
import type { RistrettoBatches } from './sodium-group.js';

type Ristretto = Required<
  Pick<NativeKernels, 'ristrettoHashMultiply' | 'ristrettoMultiply' | 'ristrettoIsValidPoint'>
>;

const encoder = new TextEncoder();
const MAX_BATCH_BYTES = 0xffffffff;

/** The ids' UTF-8 bytes back to back, and where each ends (as utf8() encodes them). */
function packed(ids: readonly string[]): { messages: Uint8Array; ends: Uint32Array } {
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

function systemBatches(native: Ristretto): RistrettoBatches {
  return {
    name: 'system libsodium',

    hashAndMultiply(ids, scalar, dst) {
      checkBatch(undefined, scalar);
      const { messages, ends } = packed(ids);
      try {
        const out = new Uint8Array(ids.length * ELEMENT_BYTES);
        if (native.ristrettoHashMultiply(scalar, messages, ends, utf8(dst), out) >= 0) {
          // Only if H(id)·k were the identity: probability 2^-252 for a scalar in [1, order).
          throw new Error('libsodium: k·H(id) is the identity');
        }
        return out;
      } finally {
        zeroize(messages); // the ids, wiped as the WebAssembly group wipes its copies
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
