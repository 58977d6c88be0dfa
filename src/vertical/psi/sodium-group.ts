/**
 * The PSI group on libsodium (libsodium-wrappers-sumo: the C library compiled to WebAssembly):
 * `crypto_core_ristretto255_from_hash` is RFC 9496's one-way map and
 * `crypto_scalarmult_ristretto255` decodes (refusing non-canonical encodings), multiplies with a
 * constant-time ladder, and encodes. Runs wherever WebAssembly does.
 *
 * hash_to_ristretto255 (RFC 9380 Appendix B) is expand_message_xmd(SHA-512) to 64 bytes followed
 * by the one-way map: @noble/curves' expand_message_xmd (the same code nobleGroup runs) over
 * libsodium's SHA-512, which measured 3x faster here than noble's own SHA-512 and 2x faster than
 * node:crypto's per-call hashing of such short messages.
 *
 * Batches work in the module's memory directly, through the raw functions that
 * libsodium-wrappers exposes as `.libsodium`: one allocation per batch instead of several per
 * point, and, unlike the wrappers (which free without wiping), the scalar and every intermediate
 * are overwritten before the memory is freed.
 */
import sodium from 'libsodium-wrappers-sumo';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { utf8 } from '../../crypto/bytes.js';
import {
  checkBatch,
  ELEMENT_BYTES,
  InvalidPointError,
  PSI_DST,
  type PsiGroup,
  SCALAR_BYTES,
} from './group.js';

/** The raw libsodium functions used here (pointers are byte offsets into HEAPU8). */
interface SodiumWasm {
  /** Re-read after every allocation: growing the memory replaces the view. */
  readonly HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  _crypto_core_ristretto255_from_hash(out: number, uniform: number): number;
  _crypto_scalarmult_ristretto255(out: number, scalar: number, point: number): number;
  _crypto_core_ristretto255_is_valid_point(point: number): number;
}

const REQUIRED = [
  '_malloc',
  '_free',
  '_crypto_core_ristretto255_from_hash',
  '_crypto_scalarmult_ristretto255',
  '_crypto_core_ristretto255_is_valid_point',
] as const;

const UNIFORM_BYTES = 64;

let loading: Promise<SodiumWasm> | undefined;

/** The initialized module; fails (once per process) if the installed version lacks a function. */
export function loadSodium(): Promise<SodiumWasm> {
  loading ??= sodium.ready.then(() => {
    const raw = (sodium as unknown as { libsodium?: Partial<SodiumWasm> }).libsodium;
    const missing = REQUIRED.filter((name) => typeof raw?.[name] !== 'function');
    if (raw === undefined || missing.length > 0 || !(raw.HEAPU8 instanceof Uint8Array)) {
      throw new Error(
        `libsodium-wrappers-sumo ${sodium.SODIUM_VERSION_STRING}: the raw module lacks ${missing.join(', ') || 'HEAPU8'}`,
      );
    }
    return raw as SodiumWasm;
  });
  return loading;
}

/** SHA-512 as @noble's expand_message_xmd expects it, computed by libsodium. */
const sodiumSha512 = Object.assign((message: Uint8Array) => sodium.crypto_hash_sha512(message), {
  blockLen: sha512.blockLen,
  outputLen: sha512.outputLen,
  canXOF: false,
  create: sha512.create,
});

/**
 * Runs `work` on a fresh region of `bytes` bytes of the module's memory whose first SCALAR_BYTES
 * hold the scalar; wipes and frees the region however `work` ends.
 */
function withRegion<T>(
  wasm: SodiumWasm,
  scalar: Uint8Array,
  bytes: number,
  work: (base: number) => T,
): T {
  const base = wasm._malloc(SCALAR_BYTES + bytes);
  if (base === 0) throw new Error(`libsodium: out of memory for ${SCALAR_BYTES + bytes} bytes`);
  try {
    wasm.HEAPU8.set(scalar, base);
    return work(base);
  } finally {
    wasm.HEAPU8.fill(0, base, base + SCALAR_BYTES + bytes);
    wasm._free(base);
  }
}

/** Synchronous core of `hashAndMultiply`. */
function hashAndMultiplySync(
  wasm: SodiumWasm,
  ids: readonly string[],
  scalar: Uint8Array,
  dst: string,
): Uint8Array {
  checkBatch(undefined, scalar);
  // Layout after the scalar: one 64-byte uniform string, one point H(id), then the outputs.
  return withRegion(wasm, scalar, UNIFORM_BYTES + ELEMENT_BYTES * (1 + ids.length), (base) => {
    const uniform = base + SCALAR_BYTES;
    const hashed = uniform + UNIFORM_BYTES;
    const out = hashed + ELEMENT_BYTES;
    ids.forEach((id, i) => {
      // May allocate inside the module (and grow its memory): read HEAPU8 afresh.
      const bytes = expand_message_xmd(utf8(id), dst, UNIFORM_BYTES, sodiumSha512);
      wasm.HEAPU8.set(bytes, uniform);
      wasm._crypto_core_ristretto255_from_hash(hashed, uniform);
      if (wasm._crypto_scalarmult_ristretto255(out + i * ELEMENT_BYTES, base, hashed) !== 0) {
        // Only if H(id)·k were the identity: probability 2^-252 for a scalar in [1, order).
        throw new Error('libsodium: k·H(id) is the identity');
      }
    });
    return wasm.HEAPU8.slice(out, out + ids.length * ELEMENT_BYTES);
  });
}

/** Synchronous core of `multiply`; throws InvalidPointError for the first refused point. */
function multiplySync(wasm: SodiumWasm, points: Uint8Array, scalar: Uint8Array): Uint8Array {
  checkBatch(points, scalar);
  return withRegion(wasm, scalar, 2 * points.length, (base) => {
    const input = base + SCALAR_BYTES;
    const out = input + points.length;
    wasm.HEAPU8.set(points, input);
    for (let i = 0; i < points.length / ELEMENT_BYTES; i++) {
      const point = input + i * ELEMENT_BYTES;
      // -1 when the encoding is refused or the product is the identity, which for k in
      // [1, order) in a prime-order group means the point was the identity.
      if (wasm._crypto_scalarmult_ristretto255(out + i * ELEMENT_BYTES, base, point) !== 0) {
        const valid = wasm._crypto_core_ristretto255_is_valid_point(point) === 1;
        throw new InvalidPointError(
          i,
          valid ? 'the identity element' : 'not a canonical ristretto255 encoding',
        );
      }
    }
    return wasm.HEAPU8.slice(out, out + points.length);
  });
}

/**
 * The group's batch operations on one thread, synchronous: what `sodiumGroup()` and the worker
 * threads of worker-group.ts run. `multiply` throws InvalidPointError for the first refused point.
 */
export interface RistrettoBatches {
  readonly name: string;
  hashAndMultiply(ids: readonly string[], scalar: Uint8Array, dst: string): Uint8Array;
  multiply(points: Uint8Array, scalar: Uint8Array): Uint8Array;
}

/** libsodium compiled to WebAssembly. */
export function wasmBatches(wasm: SodiumWasm): RistrettoBatches {
  return {
    name: 'libsodium',
    hashAndMultiply: (ids, scalar, dst) => hashAndMultiplySync(wasm, ids, scalar, dst),
    multiply: (points, scalar) => multiplySync(wasm, points, scalar),
  };
}

/** A PsiGroup computing on the calling thread with `batches`. */
export function groupOf(batches: RistrettoBatches): PsiGroup {
  return {
    name: batches.name,
    hashAndMultiply: async (ids, scalar, dst = PSI_DST) =>
      batches.hashAndMultiply(ids, scalar, dst),
    multiply: async (points, scalar) => batches.multiply(points, scalar),
  };
}

/** The libsodium group on the calling thread. */
export async function sodiumGroup(): Promise<PsiGroup> {
  return groupOf(wasmBatches(await loadSodium()));
}
