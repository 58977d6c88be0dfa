// The only module that touches node:crypto: SHA-256 and ECDSA P-256/SHA-256 verification.
// Everything else in the package is platform-neutral, so a WebCrypto or @noble backend would
// replace just this file.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { concatBytes } from './bytes.js';

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

// DER SubjectPublicKeyInfo header for an uncompressed P-256 point (id-ecPublicKey, prime256v1,
// BIT STRING of 66 bytes); appending 0x04 || X || Y gives a complete SPKI.
const P256_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
  0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
]);

/** SPKI DER for a raw 64-byte P-256 public key X || Y (the form quotes carry). */
export function p256SpkiFromRaw(xy: Uint8Array): Uint8Array {
  return concatBytes(P256_SPKI_PREFIX, xy);
}

/**
 * Verifies an ECDSA P-256 signature over SHA-256(message). `signature` is raw r || s (64 bytes,
 * as in quotes and PCS JSON) or DER (as in certificates and CRLs). An unusable key or a
 * malformed signature counts as a failed verification.
 */
export function verifyP256(
  spki: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  encoding: 'raw' | 'der',
): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      return false;
    }
    const dsaEncoding = encoding === 'raw' ? 'ieee-p1363' : 'der';
    return verify('sha256', message, { key, dsaEncoding }, signature);
  } catch {
    return false;
  }
}
