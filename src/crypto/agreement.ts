/** X25519 key pairs and key agreement, with the raw secret always passed through HKDF-SHA256. */
import { backend } from './backend.js';
import { zeroize } from './bytes.js';
import { systemRandom, type RandomSource } from './random.js';

export const X25519_KEY_BYTES = 32;

export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateKeyPair(random: RandomSource = systemRandom): KeyPair {
  const privateKey = new Uint8Array(X25519_KEY_BYTES);
  random.fill(privateKey);
  return { privateKey, publicKey: backend.x25519PublicKey(privateKey) };
}

export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return backend.x25519PublicKey(privateKey);
}

/**
 * A 32-byte key shared with the owner of `peerPublicKey`: HKDF-SHA256(X25519(priv, peer), salt,
 * info). Both sides derive the same key, so `info` must name the purpose (and any context such
 * as the round) but not the direction. Throws LowOrderPointError for small-order peer keys.
 */
export function agreeKey(
  privateKey: Uint8Array,
  peerPublicKey: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
): Uint8Array {
  const secret = backend.x25519(privateKey, peerPublicKey);
  try {
    return backend.hkdfSha256(secret, salt, info, 32);
  } finally {
    zeroize(secret);
  }
}
