/**
 * The PSI group on libsodium (libsodium-wrappers-sumo: the C library compiled to WebAssembly):
 * `crypto_core_ristretto255_from_hash` is RFC 9496's one-way map and
 * `crypto_scalarmult_curve25519` is X25519, a constant-time ladder. Runs wherever WebAssembly
 * does.
 *
 * hash_to_ristretto255 (RFC 9380 Appendix B) is expand_message_xmd(SHA-512) to 64 bytes followed
 * by the one-way map: @noble/curves' expand_message_xmd (the same code nobleGroup runs) over
 * libsodium's SHA-512, which measured 3x faster here than noble's own SHA-512 and 2x faster than
 * node:crypto's per-call hashing of such short messages. The encoding is squared in place
 * (field25519.ts: limbs in float64, no BigInt, no secret-dependent branch or index).
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
  checkPeerPoints,
  ELEMENT_BYTES,
  PSI_DST,
  type PsiBatches,
  type PsiGroup,
  SCALAR_BYTES,
} from './group.js';
import { squareModPrime } from './field25519.js';

/** The raw libsodium functions used here (pointers are byte offsets into HEAPU8). */
interface SodiumWasm {
  /** Re-read after every allocation: growing the memory replaces the view. */
  readonly HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  _crypto_core_ristretto255_from_hash(out: number, uniform: number): number;
  /** X25519; -1 when the product is zero (a point of small order). */
  _crypto_scalarmult_curve25519(out: number, scalar: number, point: number): number;
}

const REQUIRED = [
  '_malloc',
  '_free',
  '_crypto_core_ristretto255_from_hash',
  '_crypto_scalarmult_curve25519',
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

/** X25519 of the scalar at `scalar` with the point at `point` into `out`, in module memory. */
function x25519At(wasm: SodiumWasm, out: number, scalar: number, point: number): void {
  if (wasm._crypto_scalarmult_curve25519(out, scalar, point) !== 0) {
    // Unreachable: checkPeerPoints refused every point of small order, and H(id) is one only if
    // it is the identity (probability 2^-252).
    throw new Error('libsodium: an X25519 product is zero');
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
  // Layout after the scalar: one 64-byte uniform string, one u-coordinate, then the outputs.
  return withRegion(wasm, scalar, UNIFORM_BYTES + ELEMENT_BYTES * (1 + ids.length), (base) => {
    const uniform = base + SCALAR_BYTES;
    const point = uniform + UNIFORM_BYTES;
    const out = point + ELEMENT_BYTES;
    ids.forEach((id, i) => {
      // May allocate inside the module (and grow its memory): read HEAPU8 afresh.
      const bytes = expand_message_xmd(utf8(id), dst, UNIFORM_BYTES, sodiumSha512);
      wasm.HEAPU8.set(bytes, uniform);
      wasm._crypto_core_ristretto255_from_hash(point, uniform);
      const encoding = wasm.HEAPU8.subarray(point, point + ELEMENT_BYTES);
      squareModPrime(encoding, encoding);
      x25519At(wasm, out + i * ELEMENT_BYTES, base, point);
    });
    return wasm.HEAPU8.slice(out, out + ids.length * ELEMENT_BYTES);
  });
}

/** Synchronous core of `multiply`; throws InvalidPointError for the first refused point. */
function multiplySync(wasm: SodiumWasm, points: Uint8Array, scalar: Uint8Array): Uint8Array {
  checkBatch(points, scalar);
  checkPeerPoints(points);
  return withRegion(wasm, scalar, 2 * points.length, (base) => {
    const input = base + SCALAR_BYTES;
    const out = input + points.length;
    wasm.HEAPU8.set(points, input);
    for (let at = 0; at < points.length; at += ELEMENT_BYTES) {
      x25519At(wasm, out + at, base, input + at);
    }
    return wasm.HEAPU8.slice(out, out + points.length);
  });
}

/** libsodium compiled to WebAssembly. */
export function wasmBatches(wasm: SodiumWasm): PsiBatches {
  return {
    name: 'libsodium',
    hashAndMultiply: (ids, scalar, dst) => hashAndMultiplySync(wasm, ids, scalar, dst),
    multiply: (points, scalar) => multiplySync(wasm, points, scalar),
  };
}

/** A PsiGroup computing on the calling thread with `batches`. */
export function groupOf(batches: PsiBatches): PsiGroup {
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
