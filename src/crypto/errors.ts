/** Errors raised by the crypto primitives, shared by both backends. */

/** A peer's X25519 public key has small order: the shared secret would be all zero. */
export class LowOrderPointError extends Error {
  override name = 'LowOrderPointError';
  constructor() {
    super('X25519 public key has small order (the shared secret is all zero); refusing to use it');
  }
}

/** AES-GCM authentication failed: wrong key, nonce or associated data, or altered ciphertext. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  constructor() {
    super('AES-GCM authentication failed: the ciphertext, nonce or associated data was altered');
  }
}
