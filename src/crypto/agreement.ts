/** X25519 key pairs and key agreement, with the raw secret always passed through HKDF-SHA256. */
import { backend } from './backend.js';
import { hexToBytes, zeroize } from './bytes.js';
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

// The X25519 public keys of small order (RFC 7748 §6.1 warns of them), as libsodium lists them,
// with bit 255 cleared because X25519 ignores it: 0, 1, the two points of order 8, and the
// non-canonical encodings p - 1, p, p + 1. Agreeing with any of them yields the all-zero secret.
const SMALL_ORDER_KEYS = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map(hexToBytes);

/**
 * Whether a public key (or any X25519 input u) has small order, without an agreement: lets a
 * server refuse such a key when it arrives instead of letting every neighbour fail on it later.
 * Compares bytes in place, without copying: the PSI checks 100,000 values a batch with it.
 */
export function isSmallOrderKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== X25519_KEY_BYTES) return false;
  return SMALL_ORDER_KEYS.some((key) => {
    for (let i = 0; i < X25519_KEY_BYTES - 1; i++) {
      if (publicKey[i] !== key[i]) return false;
    }
    return ((publicKey[31] as number) & 0x7f) === key[31];
  });
}
