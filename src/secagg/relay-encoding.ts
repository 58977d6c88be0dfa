/**
 * Hand-written protobuf encoders for the bulky messages: the two a server sends most and largest,
 * share-keys (every neighbour's public keys, to each client) and ask-vectors (the encrypted shares
 * relayed to each client), and a client's masked vector. protobuf-es's reflective toBinary walks
 * the schema for every field of every message; at N = 500, shareNum = 51 that is over 100,000
 * fields a round and was a sixth of the server's CPU; and it copies a nested bytes field once per
 * level of nesting, 800 KB for a 400 KB vector. These compute each message's exact size, allocate
 * it once and write the bytes protobuf-es would (the codec test checks them against toBinary of
 * the generated schema).
 *
 * A client's entry in share-keys is the same in each of its shareNum neighbours' messages, so it
 * is encoded once per NeighbourKeys object and copied after that.
 *
 * Field numbers are those of proto/sepal/secagg/v1/secagg.proto. Proto3 omits zero scalars and
 * empty bytes; a message field, and every element of a repeated one, is written even when empty.
 */
import type { EncryptedShare, NeighbourKeys } from './messages.js';

// ServerMessage.body
const SHARE_KEYS = 3;
const ASK_VECTORS = 4;
// ClientMessage.body
const MASKED_VECTOR = 4;
// ShareKeys.neighbours, AskVectors.shares
const REPEATED = 1;
const VARINT = 0;
const LENGTH_DELIMITED = 2;

const tag = (field: number, wireType: number): number => (field << 3) | wireType;

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value >>>= 7;
    size++;
  }
  return size;
}

/** Bytes of an optional uint32 field (absent when zero) and of an optional bytes field. */
const uint32FieldSize = (value: number) => (value === 0 ? 0 : 1 + varintSize(value));
const bytesFieldSize = (value: Uint8Array) =>
  value.length === 0 ? 0 : 1 + varintSize(value.length) + value.length;
/** Bytes of a length-delimited field (single-byte tag) whose body is `body` bytes. */
const nestedSize = (body: number) => 1 + varintSize(body) + body;

/** Writes protobuf fields into a buffer allocated at its final size. */
class ExactWriter {
  readonly bytes: Uint8Array;
  #at = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  varint(value: number): this {
    while (value >= 0x80) {
      this.bytes[this.#at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.bytes[this.#at++] = value;
    return this;
  }

  nested(field: number, body: number): this {
    return this.varint(tag(field, LENGTH_DELIMITED)).varint(body);
  }

  uint32(field: number, value: number): this {
    return value === 0 ? this : this.varint(tag(field, VARINT)).varint(value);
  }

  raw(value: Uint8Array): this {
    this.bytes.set(value, this.#at);
    this.#at += value.length;
    return this;
  }

  field(field: number, value: Uint8Array): this {
    if (value.length === 0) return this;
    return this.varint(tag(field, LENGTH_DELIMITED)).varint(value.length).raw(value);
  }

  /** The buffer, which must now be exactly full. */
  finish(): Uint8Array {
    if (this.#at !== this.bytes.length) {
      throw new Error(`encoder wrote ${this.#at} of ${this.bytes.length} bytes`);
    }
    return this.bytes;
  }
}

const neighbourEntries = new WeakMap<NeighbourKeys, Uint8Array>();

/** ShareKeys.neighbours element for `keys`, tag and length included. */
function neighbourEntry(keys: NeighbourKeys): Uint8Array {
  let entry = neighbourEntries.get(keys);
  if (entry === undefined) {
    const { clientId, encryptionKey, maskKey } = keys;
    const body =
      uint32FieldSize(clientId) + bytesFieldSize(encryptionKey) + bytesFieldSize(maskKey);
    entry = new ExactWriter(nestedSize(body))
      .nested(REPEATED, body)
      .uint32(1, clientId)
      .field(2, encryptionKey)
      .field(3, maskKey)
      .finish();
    neighbourEntries.set(keys, entry);
  }
  return entry;
}

/** ServerMessage { share_keys: ShareKeys { neighbours } }. */
export function encodeShareKeys(neighbours: readonly NeighbourKeys[]): Uint8Array {
  const entries = neighbours.map(neighbourEntry);
  const body = entries.reduce((sum, entry) => sum + entry.length, 0);
  const writer = new ExactWriter(nestedSize(body)).nested(SHARE_KEYS, body);
  for (const entry of entries) writer.raw(entry);
  return writer.finish();
}

/** ServerMessage { ask_vectors: AskVectors { shares } }. */
export function encodeAskVectors(shares: readonly EncryptedShare[]): Uint8Array {
  const bodies = shares.map((s) => uint32FieldSize(s.peer) + bytesFieldSize(s.ciphertext));
  const body = bodies.reduce((sum, size) => sum + nestedSize(size), 0);
  const writer = new ExactWriter(nestedSize(body)).nested(ASK_VECTORS, body);
  shares.forEach(({ peer, ciphertext }, i) => {
    writer
      .nested(REPEATED, bodies[i] as number)
      .uint32(1, peer)
      .field(2, ciphertext);
  });
  return writer.finish();
}

/** ClientMessage { ask_vectors: MaskedVector { length, packed, invalid_share_senders } }. */
export function encodeMaskedVector(
  length: number,
  packed: Uint8Array,
  invalidShareSenders: readonly number[],
): Uint8Array {
  // proto3 packs repeated scalars: one length-delimited field of varints, omitted when empty.
  const senders = invalidShareSenders.reduce((sum, id) => sum + varintSize(id), 0);
  const body =
    uint32FieldSize(length) + bytesFieldSize(packed) + (senders === 0 ? 0 : nestedSize(senders));
  const writer = new ExactWriter(nestedSize(body))
    .nested(MASKED_VECTOR, body)
    .uint32(1, length)
    .field(2, packed);
  if (senders > 0) {
    writer.nested(3, senders);
    for (const id of invalidShareSenders) writer.varint(id);
  }
  return writer.finish();
}
