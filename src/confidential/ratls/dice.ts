// TCG DICE tagged evidence, as Gramine (>= 1.8) and rats-tls write it in extension
// 2.23.133.5.4.9: CBOR tag 60000 around [bstr quote, bstr claims], where claims is a serialized
// CBOR map whose "pubkey-hash" is a serialized [hash-alg-id, bstr hash] of the certificate's
// DER SubjectPublicKeyInfo, and the quote's report data is SHA-256(claims) || 32 zero bytes.
// Extra claims (rats-tls adds key_0, key_1) are allowed and ignored.
import { createHash } from 'node:crypto';
import { decode, encode, Tagged } from 'cborg';
import { CBOR_TAG_INTEL_TEE_QUOTE } from './oids.js';
import { RaTlsCertificateError } from './errors.js';

/** IANA "Named Information Hash Algorithm" ids used for pubkey-hash. */
const HASH_ALGORITHMS: ReadonlyMap<number, string> = new Map([
  [1, 'sha256'],
  [7, 'sha384'],
  [8, 'sha512'],
]);
const SHA256_ID = 1;

export interface DiceEvidence {
  readonly quote: Uint8Array;
  /** The serialized claims map, exactly as the quote's report data commits to it. */
  readonly claims: Uint8Array;
  readonly pubkeyHashAlgorithm: string;
  readonly pubkeyHash: Uint8Array;
}

const fail = (detail: string) => new RaTlsCertificateError('TCG DICE evidence', detail);

/** The claims map binding `spki` with SHA-256, serialized. */
export function diceClaims(spki: Uint8Array): Uint8Array {
  const pubkeyHash = encode([
    SHA256_ID,
    new Uint8Array(createHash('sha256').update(spki).digest()),
  ]);
  return encode({ 'pubkey-hash': pubkeyHash });
}

export function encodeDiceEvidence(quote: Uint8Array, claims: Uint8Array): Uint8Array {
  return encode(new Tagged(CBOR_TAG_INTEL_TEE_QUOTE, [quote, claims]));
}

export function decodeDiceEvidence(bytes: Uint8Array): DiceEvidence {
  // Only tag 60000 is known: any other tag makes the decoder throw.
  const tags = { [CBOR_TAG_INTEL_TEE_QUOTE]: Tagged.decoder(CBOR_TAG_INTEL_TEE_QUOTE) };
  const outer = cbor(bytes, 'the extension', { tags });
  if (!(outer instanceof Tagged) || outer.tag !== CBOR_TAG_INTEL_TEE_QUOTE) {
    throw fail(`expected CBOR tag ${CBOR_TAG_INTEL_TEE_QUOTE} (Intel TEE quote)`);
  }
  const [quote, claims, ...extra] = Array.isArray(outer.value) ? outer.value : [];
  if (!(quote instanceof Uint8Array) || !(claims instanceof Uint8Array) || extra.length > 0) {
    throw fail('expected [bstr quote, bstr claims]');
  }
  const map = cbor(claims, 'the claims', { useMaps: true });
  const serialized = map instanceof Map ? map.get('pubkey-hash') : undefined;
  if (!(serialized instanceof Uint8Array)) throw fail('the claims have no "pubkey-hash" bstr');
  const [id, hash, ...rest] = asArray(cbor(serialized, 'pubkey-hash', {}));
  const algorithm = typeof id === 'number' ? HASH_ALGORITHMS.get(id) : undefined;
  if (algorithm === undefined || !(hash instanceof Uint8Array) || rest.length > 0) {
    throw fail('pubkey-hash must be [1 | 7 | 8, bstr hash]');
  }
  return { quote, claims, pubkeyHashAlgorithm: algorithm, pubkeyHash: hash };
}

function cbor(bytes: Uint8Array, what: string, options: Parameters<typeof decode>[1]): unknown {
  try {
    return decode(bytes, { ...options, rejectDuplicateMapKeys: true });
  } catch (error) {
    throw fail(`${what} is not valid CBOR (${(error as Error).message})`);
  }
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
