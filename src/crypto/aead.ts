/** AES-256-GCM with a fresh random 96-bit nonce per message, carried in front of the ciphertext. */
import { backend } from './backend.js';
import { AuthenticationError } from './errors.js';
import { systemRandom, type RandomSource } from './random.js';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes a sealed message adds to its plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** Returns nonce ‖ ciphertext ‖ tag. Random 96-bit nonces are safe for < 2^32 messages per key. */
export function seal(
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  random: RandomSource = systemRandom,
): Uint8Array {
  const nonce = new Uint8Array(NONCE_BYTES);
  random.fill(nonce);
  const body = backend.aes256GcmSeal(key, nonce, plaintext, aad);
  const out = new Uint8Array(NONCE_BYTES + body.length);
  out.set(nonce);
  out.set(body, NONCE_BYTES);
  return out;
}

/** Inverse of {@link seal}; throws AuthenticationError on any alteration or wrong context. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (sealed.length < SEAL_OVERHEAD) throw new AuthenticationError();
  return backend.aes256GcmOpen(
    key,
    sealed.subarray(0, NONCE_BYTES),
    sealed.subarray(NONCE_BYTES),
    aad,
  );
}
