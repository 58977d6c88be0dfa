// Confidential computing for Sepal: integrity manifests, attestation (DCAP verifier, Gramine and
// software attesters), RA-TLS and attested TLS, sealed storage, and node start-up.
export * from './attestation/index.js';
export * from './attesters/index.js';
export * from './manifest/index.js';
export * from './ratls/index.js';
export * from './sealed/index.js';
export { readPublicKey, readSigningKey, writeSigningKeyPair, KeyFileError } from './key-files.js';
export { generateSigningKey, signingPublicKey } from './signing.js';
export {
  ATTEST_MODES,
  startConfidentialNode,
  type AttestMode,
  type ConfidentialNode,
  type ConfidentialNodeOptions,
} from './node.js';
