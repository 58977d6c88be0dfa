/**
 * Every key, associated datum and mask stream of a round, derived in one place so that client
 * and server cannot disagree. All of them are bound to the 16-byte round id.
 */
import { agreeKey } from '../crypto/agreement.js';
import { concatBytes, u32be, utf8 } from '../crypto/bytes.js';
import { maskKey, type MaskSign } from '../crypto/mask.js';

const SALT = utf8('sepal/secagg/v1');
const SHARE_ENCRYPTION = utf8('share-encryption');
const PAIRWISE_SEED = utf8('pairwise-seed');
const SHARE_AAD = utf8('sepal/secagg/v1/share');

export const ROUND_ID_BYTES = 16;
export const SECRET_BYTES = 32;

/** The AES-256-GCM key for shares between two clients (the same from both ends). */
export function shareEncryptionKey(
  privateKey: Uint8Array,
  peerPublicKey: Uint8Array,
  roundId: Uint8Array,
): Uint8Array {
  return agreeKey(privateKey, peerPublicKey, SALT, concatBytes(SHARE_ENCRYPTION, roundId));
}

/**
 * Associated data of a share sent from `sender` to `receiver`: a share replayed to another peer,
 * in the other direction, or in another round fails authentication.
 */
export function shareAad(roundId: Uint8Array, sender: number, receiver: number): Uint8Array {
  return concatBytes(SHARE_AAD, roundId, u32be(sender), u32be(receiver));
}

/** The AES key of the pairwise mask stream between two clients (the same from both ends). */
export function pairwiseMaskKey(
  privateKey: Uint8Array,
  peerPublicKey: Uint8Array,
  roundId: Uint8Array,
): Uint8Array {
  const seed = agreeKey(privateKey, peerPublicKey, SALT, concatBytes(PAIRWISE_SEED, roundId));
  return maskKey(seed, 'pairwise', roundId);
}

/** The AES key of a client's self-mask stream. */
export function selfMaskKey(seed: Uint8Array, roundId: Uint8Array): Uint8Array {
  return maskKey(seed, 'self', roundId);
}

/**
 * The sign with which `client` applies its pairwise mask with `peer`: the lower id adds, the
 * higher subtracts, so the two masks cancel in the sum.
 */
export const pairwiseSign = (client: number, peer: number): MaskSign => (client < peer ? 1 : -1);
