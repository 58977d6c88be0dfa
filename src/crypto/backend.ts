/**
 * The one seam between Sepal's cryptography and the platform it runs on, and between the
 * arithmetic on masked vectors and the platform's native kernels, when there are any.
 *
 * Every primitive Sepal uses is reached through a {@link CryptoBackend}. Two implementations exist
 * and must agree bit for bit (the test suite runs the published vectors through both):
 * - `node`: node:crypto (OpenSSL, AES-NI): the fast path for servers and simulations;
 * - `portable`: the audited @noble libraries: runs in any JavaScript engine, including browsers.
 *
 * The interface is synchronous on purpose. WebCrypto is asynchronous only, which would turn every
 * step of the SecAgg state machines into a promise and cost a microtask per share; @noble gives
 * browsers the same primitives synchronously.
 */
import type { MaskThreadPool } from './mask-threads.js';

export { AuthenticationError, LowOrderPointError } from './errors.js';

export interface CryptoBackend {
  readonly name: 'node' | 'portable';
  /** X25519 public key of a 32-byte private key (RFC 7748; the scalar is clamped inside). */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /**
   * Raw X25519 shared secret. Throws {@link LowOrderPointError} when the result is all zero, which
   * happens exactly when the peer's public key has small order (RFC 7748 §6.1).
   */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** AES-256-GCM; returns ciphertext ‖ 16-byte tag. */
  aes256GcmSeal(
    key: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array;
  /** Inverse of {@link aes256GcmSeal}; throws {@link AuthenticationError} when the tag is wrong. */
  aes256GcmOpen(
    key: Uint8Array,
    nonce: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array;
  /**
   * AES-256-CTR keystream with a 128-bit big-endian counter starting at `iv`. Successive calls of
   * the returned function continue the stream byte by byte; each returns the next `byteLength`
   * bytes, any number of them.
   */
  aes256CtrKeystream(key: Uint8Array, iv: Uint8Array): (byteLength: number) => Uint8Array;
  /**
   * Optional fast path for masking: adds (signs[i] = 1) or subtracts (signs[i] = -1) the
   * AES-256-CTR stream of every 32-byte key in `keys` (concatenated), each starting at counter
   * block `firstBlock`, to `target` as little-endian words modulo 2^32. The words equal those of
   * {@link aes256CtrKeystream} accumulated in JavaScript.
   */
  readonly applyAes256CtrStreams?: (
    target: Uint32Array,
    keys: Uint8Array,
    signs: Int8Array,
    firstBlock: number,
  ) => void;
  /** Optional fast path: target[i] += source[i] modulo 2^32, for arrays of the same length. */
  readonly addWords?: (target: Uint32Array, source: Uint32Array) => void;
  /** Optional fast path of the stochastic quantizer's loop, computing the same words. */
  readonly weightedLevels?: WeightedLevels;
}

/**
 * The stochastic quantizer's loop (src/secagg/quantize.ts, weightedLevels): on entry out[i] holds
 * entry i's 32-bit coin, on exit weight × level; returns the index of the first non-finite value
 * or -1.
 */
export type WeightedLevels = (
  values: Float32Array,
  out: Uint32Array,
  clippingRange: number,
  scale: number,
  top: number,
  weight: number,
) => number;

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** The backend this platform uses: node:crypto under Node.js, @noble elsewhere. */
export const backend: CryptoBackend = isNode
  ? (await import('./backend-node.js')).nodeBackend
  : (await import('./backend-portable.js')).portableBackend;

/**
 * Node only: worker threads for large mask jobs (see mask-threads.ts). Undefined in browsers and
 * when there are no threads (SEPAL_MASK_THREADS=0, the default with the native accelerator);
 * mask.ts then applies every mask on the calling thread.
 */
export const maskThreads: MaskThreadPool | undefined = isNode
  ? (await import('./mask-threads.js')).createMaskThreads(
      backend.applyAes256CtrStreams === undefined ? 1 : 0,
    )
  : undefined;
