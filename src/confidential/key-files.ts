// Ed25519 key files. Private keys are PKCS#8 PEM and public keys SubjectPublicKeyInfo PEM, the
// forms `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write, so keys can be
// made and inspected with standard tools. A public key may also be given as 64 hex digits.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fromHex } from './attestation/bytes.js';
import { ED25519_KEY_BYTES } from './signing.js';

export class KeyFileError extends Error {
  override name = 'KeyFileError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`key file ${path}: ${detail}`);
  }
}

/** Writes a new key pair: the private key (mode 0600) and `<path>.pub` beside it. */
export function writeSigningKeyPair(privatePath: string): {
  publicPath: string;
  publicKey: Uint8Array;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicPath = `${privatePath}.pub`;
  try {
    // 'wx' refuses to overwrite: replacing a signing key by accident would orphan signatures.
    writeFileSync(publicPath, publicKey.export({ format: 'pem', type: 'spki' }), { flag: 'wx' });
    writeFileSync(privatePath, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    throw new KeyFileError(privatePath, `cannot write: ${(error as Error).message}`);
  }
  return { publicPath, publicKey: rawPublic(publicKey, publicPath) };
}

/** The raw 32-byte Ed25519 secret key (seed) in a PKCS#8 PEM file. */
export function readSigningKey(path: string): Uint8Array {
  const key = parse(path, (text) => createPrivateKey({ key: text, format: 'pem' }));
  const jwk = key.export({ format: 'jwk' });
  return exactKey(jwk.d, path);
}

/** A raw 32-byte Ed25519 public key from a PEM file, or from 64 hex digits given inline. */
export function readPublicKey(pathOrHex: string): Uint8Array {
  const inline = fromHex(pathOrHex);
  if (inline?.length === ED25519_KEY_BYTES) return inline;
  const key = parse(pathOrHex, (text) => createPublicKey({ key: text, format: 'pem' }));
  return rawPublic(key, pathOrHex);
}

function parse(path: string, decode: (text: string) => KeyObject): KeyObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeyFileError(path, `cannot read: ${(error as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = decode(text);
  } catch {
    throw new KeyFileError(path, 'not a PEM key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFileError(path, `an Ed25519 key was expected, found ${key.asymmetricKeyType}`);
  }
  return key;
}

function rawPublic(key: KeyObject, path: string): Uint8Array {
  return exactKey(key.export({ format: 'jwk' }).x, path);
}

function exactKey(base64url: string | undefined, path: string): Uint8Array {
  const raw = new Uint8Array(Buffer.from(base64url ?? '', 'base64url'));
  if (raw.length !== ED25519_KEY_BYTES) throw new KeyFileError(path, 'not a 32-byte Ed25519 key');
  return raw;
}
