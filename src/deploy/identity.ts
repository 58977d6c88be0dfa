/**
 * Node identity: an Ed25519 key pair per node. Its public key, written as the base64url of the
 * 32 raw bytes (RFC 8037's JWK "x"), is how the allow-list names a node and how the server
 * recognises it in the node's TLS client certificate, whose subject key is that key.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { NodeRefusedError } from './errors.js';

export interface IdentityKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export const generateIdentity = (): IdentityKeys => generateKeyPairSync('ed25519');

/** The key's identifier on the allow-list; throws when it is not an Ed25519 key. */
export function keyId(key: KeyObject): string {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new NodeRefusedError(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'none'}`);
  }
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const { x } = publicKey.export({ format: 'jwk' });
  return x as string;
}

/** Node names: safe in file names, logs and the report. */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Matches keyId output: 32 bytes in unpadded base64url. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
