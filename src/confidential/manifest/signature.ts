// Signing a manifest with Ed25519, and checking it against the one key a verifier trusts.
import { bytesEqual, fromHex, toHex } from '../attestation/bytes.js';
import { sign, signingPublicKey, verifySignature } from '../signing.js';
import { type Manifest, type ManifestDocument, signedBytes } from './document.js';
import { ManifestSignatureError } from './errors.js';

export function signManifest(manifest: Manifest, secretKey: Uint8Array): ManifestDocument {
  return {
    manifest,
    signature: {
      algorithm: 'Ed25519',
      publicKey: toHex(signingPublicKey(secretKey)),
      value: toHex(sign(signedBytes(manifest), secretKey)),
    },
  };
}

/**
 * Throws unless `document` carries a valid signature by `trustedKey`. The key named in the
 * document is compared first only to give a clearer message; the signature itself is always
 * checked against the trusted key.
 */
export function checkManifestSignature(document: ManifestDocument, trustedKey: Uint8Array): void {
  const { signature } = document;
  if (signature === undefined) throw new ManifestSignatureError('the manifest is not signed');
  const named = fromHex(signature.publicKey) as Uint8Array;
  if (!bytesEqual(named, trustedKey)) {
    throw new ManifestSignatureError(
      `the manifest is signed by key ${signature.publicKey}, not by the trusted key ${toHex(trustedKey)}`,
    );
  }
  const value = fromHex(signature.value) as Uint8Array;
  if (!verifySignature(value, signedBytes(document.manifest), trustedKey)) {
    throw new ManifestSignatureError(
      'the manifest signature does not verify with the trusted key: the manifest was altered after signing',
    );
  }
}
