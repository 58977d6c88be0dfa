// Ed25519 (RFC 8032) over raw 32-byte keys, with node:crypto (OpenSSL): it is an order of
// magnitude faster than a pure-JS implementation, and every RA-TLS connection with software
// evidence verifies one signature. Raw keys become KeyObjects through the fixed RFC 8410 DER
// prefixes, as attestation/crypto.ts does for P-256.
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign as signWith,
  verify as verifyWith,
} from 'node:crypto';
import { concatBytes, hexToBytes } from '../crypto/bytes.js';

export const ED25519_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;

// PrivateKeyInfo { version 0, id-Ed25519, OCTET STRING { OCTET STRING seed } } minus the seed.
const PKCS8_PREFIX = hexToBytes('302e020100300506032b657004220420');
// SubjectPublicKeyInfo { id-Ed25519, BIT STRING key } minus the key.
const SPKI_PREFIX = hexToBytes('302a300506032b6570032100');

export function generateSigningKey(): Uint8Array {
  return new Uint8Array(randomBytes(ED25519_KEY_BYTES));
}

function privateKey(secretKey: Uint8Array): KeyObject {
  if (secretKey.length !== ED25519_KEY_BYTES) throw new RangeError('Ed25519 keys are 32 bytes');
  const der = Buffer.from(concatBytes(PKCS8_PREFIX, secretKey));
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

export function signingPublicKey(secretKey: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKey(secretKey)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return new Uint8Array(signWith(null, message, privateKey(secretKey)));
}

/** False for a wrong signature, and also for a malformed key or signature. */
export function verifySignature(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES || publicKey.length !== ED25519_KEY_BYTES) {
    return false;
  }
  try {
    const der = Buffer.from(concatBytes(SPKI_PREFIX, publicKey));
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    return verifyWith(null, message, key, signature);
  } catch {
    return false;
  }
}
