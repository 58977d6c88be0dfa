import { ctr, gcm } from '@noble/ciphers/aes.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { CryptoBackend } from './backend.js';
import { AuthenticationError, LowOrderPointError } from './errors.js';
import { isAllZero } from './bytes.js';

const BLOCK = 16;

/** Adds `blocks` to a 128-bit big-endian counter in place. */
function advanceCounter(counter: Uint8Array, blocks: number): void {
  let carry = blocks;
  for (let i = BLOCK - 1; i >= 0 && carry > 0; i--) {
    const sum = (counter[i] as number) + (carry % 256);
    counter[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
}

export const portableBackend: CryptoBackend = {
  name: 'portable',

  x25519PublicKey(privateKey) {
    return x25519.getPublicKey(privateKey);
  },

  x25519(privateKey, publicKey) {
    let secret: Uint8Array;
    try {
      secret = x25519.getSharedSecret(privateKey, publicKey);
    } catch (error) {
      // @noble rejects the small-order blocklist and all-zero results with this message.
      if (error instanceof Error && /invalid private or public key/.test(error.message)) {
        throw new LowOrderPointError();
      }
      throw error;
    }
    if (isAllZero(secret)) throw new LowOrderPointError();
    return secret;
  },

  hkdfSha256(ikm, salt, info, length) {
    return hkdf(sha256, ikm, salt, info, length);
  },

  aes256GcmSeal(key, nonce, plaintext, aad) {
    return gcm(key, nonce, aad).encrypt(plaintext);
  },

  aes256GcmOpen(key, nonce, sealed, aad) {
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      throw new AuthenticationError();
    }
  },

  aes256CtrKeystream(key, iv) {
    const counter = iv.slice();
    // The rest of the last block computed: the next call starts with it, so that calls of any
    // lengths continue one stream, as OpenSSL's cipher does in backend-node.ts.
    let spare: Uint8Array = new Uint8Array(0);
    return (byteLength) => {
      const out = new Uint8Array(byteLength);
      const taken = Math.min(spare.length, byteLength);
      out.set(spare.subarray(0, taken));
      spare = spare.subarray(taken);
      if (taken < byteLength) {
        const blocks = Math.ceil((byteLength - taken) / BLOCK);
        const fresh = ctr(key, counter).encrypt(new Uint8Array(blocks * BLOCK));
        advanceCounter(counter, blocks);
        out.set(fresh.subarray(0, byteLength - taken), taken);
        spare = fresh.subarray(byteLength - taken);
      }
      return out;
    };
  },
};
