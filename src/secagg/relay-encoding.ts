/**
 * Hand-written protobuf encoders for the two messages a server sends most and largest: share-keys
 * (every neighbour's public keys, to each client) and ask-vectors (the encrypted shares relayed
 * to each client). protobuf-es's reflective toBinary walks the schema for every field of every
 * message; at N = 500, shareNum = 51 that is over 100,000 fields a round and was a sixth of the
 * server's CPU. These write the same bytes with protobuf-es's own BinaryWriter (the codec test
 * checks them against toBinary of the generated schema).
 *
 * Field numbers are those of proto/sepal/secagg/v1/secagg.proto. Proto3 omits zero scalars and
 * empty bytes; a message field, and every element of a repeated one, is written even when empty.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { EncryptedShare, NeighbourKeys } from './messages.js';

// ServerMessage.body
const SHARE_KEYS = 3;
const ASK_VECTORS = 4;
// ShareKeys.neighbours, AskVectors.shares
const REPEATED = 1;

function uint32(writer: BinaryWriter, field: number, value: number): void {
  if (value !== 0) writer.tag(field, WireType.Varint).uint32(value);
}

function bytes(writer: BinaryWriter, field: number, value: Uint8Array): void {
  if (value.length > 0) writer.tag(field, WireType.LengthDelimited).bytes(value);
}

/** ServerMessage { share_keys: ShareKeys { neighbours } }. */
export function encodeShareKeys(neighbours: readonly NeighbourKeys[]): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(SHARE_KEYS, WireType.LengthDelimited).fork();
  for (const { clientId, encryptionKey, maskKey } of neighbours) {
    writer.tag(REPEATED, WireType.LengthDelimited).fork();
    uint32(writer, 1, clientId);
    bytes(writer, 2, encryptionKey);
    bytes(writer, 3, maskKey);
    writer.join();
  }
  writer.join();
  return writer.finish();
}

/** ServerMessage { ask_vectors: AskVectors { shares } }. */
export function encodeAskVectors(shares: readonly EncryptedShare[]): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(ASK_VECTORS, WireType.LengthDelimited).fork();
  for (const { peer, ciphertext } of shares) {
    writer.tag(REPEATED, WireType.LengthDelimited).fork();
    uint32(writer, 1, peer);
    bytes(writer, 2, ciphertext);
    writer.join();
  }
  writer.join();
  return writer.finish();
}
