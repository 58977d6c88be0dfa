import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
} from 'node:crypto';
import type { CryptoBackend } from './backend.js';
import { AuthenticationError, LowOrderPointError } from './errors.js';
import { isAllZero } from './bytes.js';
import { nativeKernels } from './native-kernels.js';

// DER prefix that wraps a raw 32-byte X25519 private key as PKCS#8 (RFC 8410).
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const TAG_BYTES = 16;
const HASH_BYTES = 32;
// Keystream is produced by encrypting zeros; one shared read-only source block bounds allocation.
const ZEROS = new Uint8Array(1 << 16);

// Importing a raw key into OpenSSL costs more than the agreement; a client agrees with every
// neighbour using the same private key, so its KeyObject is cached against the array's identity.
const privateKeyObjects = new WeakMap<Uint8Array, KeyObject>();

// A JWK carries the public key `x` beside `d`; Node builds an X25519 private key from `d` alone
// (EVP_PKEY_new_raw_private_key), about 10x faster than parsing PKCS#8 DER through OpenSSL's
// decoders, so `x` here is a placeholder. Should a Node version start checking `x`, the import
// throws and the DER path below takes over: slower, never wrong.
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');

function importPrivateKey(privateKey: Uint8Array): KeyObject {
  const d = Buffer.from(privateKey.buffer, privateKey.byteOffset, 32).toString('base64url');
  try {
    return createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d, x: PLACEHOLDER_X },
      format: 'jwk',
    });
  } catch {
    return createPrivateKey({
      key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]),
      format: 'der',
      type: 'pkcs8',
    });
  }
}

function privateKeyObject(privateKey: Uint8Array): KeyObject {
  let key = privateKeyObjects.get(privateKey);
  if (key === undefined) {
    if (privateKey.length !== 32) throw new RangeError('X25519 private key must be 32 bytes');
    key = importPrivateKey(privateKey);
    privateKeyObjects.set(privateKey, key);
  }
  return key;
}

// A client agrees with each neighbour's public key more than once (shares, masks), and parsing
// SPKI DER goes through OpenSSL's slow generic decoder: import as JWK (raw key) and cache.
const publicKeyObjects = new WeakMap<Uint8Array, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  let key = publicKeyObjects.get(publicKey);
  if (key === undefined) {
    if (publicKey.length !== 32) throw new RangeError('X25519 public key must be 32 bytes');
    const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, 32).toString('base64url');
    key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
    publicKeyObjects.set(publicKey, key);
  }
  return key;
}

/**
 * X25519 through the addon (OpenSSL's implementation without KeyObjects: about half the cost of
 * importing the peer's key and deriving through node:crypto), when it was built.
 */
const addonX25519 = nativeKernels?.x25519;
const nativeX25519 =
  addonX25519 === undefined
    ? undefined
    : (privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array => {
        if (privateKey.length !== 32) throw new RangeError('X25519 private key must be 32 bytes');
        if (publicKey.length !== 32) throw new RangeError('X25519 public key must be 32 bytes');
        const secret = new Uint8Array(32);
        // The addon reports an all-zero product; checking the bytes as well costs nothing.
        if (addonX25519(privateKey, publicKey, secret) >= 0 || isAllZero(secret)) {
          throw new LowOrderPointError();
        }
        return secret;
      };

function asBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export const nodeBackend: CryptoBackend = {
  name: 'node',

  x25519PublicKey(privateKey) {
    const { x } = createPublicKey(privateKeyObject(privateKey)).export({ format: 'jwk' });
    return asBytes(Buffer.from(x as string, 'base64url'));
  },

  x25519(privateKey, publicKey) {
    if (nativeX25519 !== undefined) return nativeX25519(privateKey, publicKey);
    let secret: Buffer;
    try {
      secret = diffieHellman({
        privateKey: privateKeyObject(privateKey),
        publicKey: publicKeyObject(publicKey),
      });
    } catch (error) {
      // OpenSSL refuses to derive an all-zero secret; report it as the small-order key it is.
      if (error instanceof Error && /derive|derivation/i.test(error.message)) {
        throw new LowOrderPointError();
      }
      throw error;
    }
    if (isAllZero(secret)) throw new LowOrderPointError();
    return asBytes(secret);
  },

  // RFC 5869 over node:crypto's HMAC-SHA256: 9 µs for a 32-byte key here, against 18 µs for
  // @noble/hashes and 20 µs for hkdfSync, which wraps every input key in a KeyObject first (a
  // server derives thousands of keys a round). The RFC's vectors and the portable backend check it.
  hkdfSha256(ikm, salt, info, length) {
    if (!Number.isInteger(length) || length < 0 || length > 255 * HASH_BYTES) {
      throw new RangeError(
        `HKDF-SHA256 output must be 0..${255 * HASH_BYTES} bytes, got ${length}`,
      );
    }
    const prk = createHmac('sha256', salt).update(ikm).digest();
    const okm = new Uint8Array(length);
    let block: Uint8Array = new Uint8Array(0);
    for (let counter = 1, offset = 0; offset < length; counter++, offset += HASH_BYTES) {
      const previous = block;
      block = createHmac('sha256', prk)
        .update(previous)
        .update(info)
        .update(Uint8Array.of(counter))
        .digest();
      previous.fill(0);
      okm.set(block.subarray(0, length - offset), offset);
    }
    block.fill(0);
    prk.fill(0);
    return okm;
  },

  aes256GcmSeal(key, nonce, plaintext, aad) {
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const body = cipher.update(plaintext);
    const final = cipher.final();
    return asBytes(Buffer.concat([body, final, cipher.getAuthTag()]));
  },

  aes256GcmOpen(key, nonce, sealed, aad) {
    if (sealed.length < TAG_BYTES) throw new AuthenticationError();
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      return asBytes(Buffer.concat([body, decipher.final()]));
    } catch {
      throw new AuthenticationError();
    }
  },

  // Present when the native kernels were built (see native-kernels.ts).
  ...(nativeKernels === undefined
    ? {}
    : {
        applyAes256CtrStreams: nativeKernels.applyMasks,
        addWords: nativeKernels.addWords,
        weightedLevels: nativeKernels.quantizeWeighted,
      }),

  aes256CtrKeystream(key, iv) {
    const cipher = createCipheriv('aes-256-ctr', key, iv);
    return (byteLength) => {
      // The common case (one chunk) hands out OpenSSL's output buffer itself: no copy.
      if (byteLength <= ZEROS.length) return asBytes(cipher.update(ZEROS.subarray(0, byteLength)));
      const out = new Uint8Array(byteLength);
      for (let offset = 0; offset < byteLength; offset += ZEROS.length) {
        const n = Math.min(ZEROS.length, byteLength - offset);
        out.set(cipher.update(ZEROS.subarray(0, n)), offset);
      }
      return out;
    };
  },
};
