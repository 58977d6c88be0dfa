/**
 * Node only: Sepal's native addon (native/), when it was built.
 *
 * For secure aggregation it adds AES-256-CTR mask streams to a vector through OpenSSL without
 * allocating a buffer per keystream chunk, which node:crypto cannot avoid, and adds masked
 * vectors without copying them in and out of WebAssembly memory; a server's unmask stage runs
 * about twice as fast with it. It also quantizes a client's update in one pass, and multiplies
 * X25519 points through OpenSSL without wrapping each key in a KeyObject, which SecAgg's key
 * agreement and the PSI both use. For the PSI it also hashes ids onto ristretto255 on the
 * system's libsodium and squares modulo 2^255 - 19. `npm install` builds it
 * (scripts/build-native.mjs); where no compiler is available it is absent and the JavaScript and
 * WebAssembly paths, which compute the same bytes, take over. SEPAL_NATIVE=0 ignores it.
 */
import { existsSync } from 'node:fs';
import type { WeightedLevels } from './backend.js';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeKernels {
  /** See native/secagg_kernels.c: signs[i] is 1 to add stream i, -1 to subtract it. */
  applyMasks(target: Uint32Array, keys: Uint8Array, signs: Int8Array, firstBlock: number): void;
  /** target[i] += source[i] modulo 2^32; the two have the same length. */
  addWords(target: Uint32Array, source: Uint32Array): void;
  /** The stochastic quantizer's loop. */
  quantizeWeighted: WeightedLevels;
  /**
   * X25519 of one scalar with each 32-byte point of `points`, into `out` (native/x25519.c);
   * returns the index of the first all-zero product or -1. Absent when this Node does not export
   * OpenSSL's X25519 or it failed the addon's known-answer test.
   */
  x25519?(scalar: Uint8Array, points: Uint8Array, out: Uint8Array): number;
  /**
   * hash_to_ristretto255 on the system's libsodium (native/sodium_ristretto.c): the encoding of
   * the hash of each message under `dst` (message i is messages[ends[i-1] .. ends[i])) into
   * `out`, 32 bytes each. expandMessageXmdSha512 fills `out` (1 to 16,320 bytes) with RFC 9380's
   * expand_message_xmd (SHA-512) of `message` under `dst` (not empty; longer than 255 bytes, it
   * is hashed as the RFC says). Both absent when no libsodium was found.
   */
  ristrettoHash?(messages: Uint8Array, ends: Uint32Array, dst: Uint8Array, out: Uint8Array): void;
  expandMessageXmdSha512?(message: Uint8Array, dst: Uint8Array, out: Uint8Array): void;
  /**
   * Each 32-byte little-endian number of `values` squared modulo 2^255 - 19, fully reduced, into
   * `out` (as long; may be `values`), in constant time (native/field25519.c).
   */
  fieldSquare25519?(values: Uint8Array, out: Uint8Array): void;
}

const ADDON = 'native/build/Release/sepal_native.node';

function loadAddon(): NativeKernels | undefined {
  if (process.env['SEPAL_NATIVE'] === '0') return undefined;
  // Sources run from src/crypto/, the build from dist/src/crypto/: the package root is 2 or 3 up.
  for (const up of ['../../', '../../../']) {
    const path = fileURLToPath(new URL(up + ADDON, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      return createRequire(import.meta.url)(path) as NativeKernels;
    } catch (error) {
      // A broken build must be seen, not silently cost half the server's speed.
      throw new Error(
        `the native kernels ${path} are present but do not load ` +
          `(${(error as Error).message}); rebuild them with "npm run build:native", ` +
          'or set SEPAL_NATIVE=0 to use the JavaScript paths',
      );
    }
  }
  return undefined;
}

export const nativeKernels: NativeKernels | undefined = loadAddon();
