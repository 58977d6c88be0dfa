// Ed25519 (RFC 8032) over raw 32-byte keys, through audited @noble/curves so that it runs in Node
// and browsers alike. Verification is strict RFC 8032 (no ZIP-215 leniency): a signature either
// verifies in every conforming implementation or in none.
import { ed25519 } from '@noble/curves/ed25519.js';

export const ED25519_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

export function generateSigningKey(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}

export function signingPublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
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
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
