/**
 * Hand-written protobuf decoders for the two client messages a server receives most and largest:
 * share-keys (EncryptedShares: a client's shares for its shareNum - 1 neighbours) and unmask
 * (UnmaskShares: the shares it holds of its neighbours). At N = 500, shareNum = 51 they carry
 * 50,000 small messages a round, which protobuf-es's reflective fromBinary walks field by field.
 *
 * The fast path accepts only the canonical layout Sepal's encoder writes (relay-encoding.ts says
 * what that is): one body field spanning the message, elements of known field numbers and wire
 * types, element fields in ascending order. Anything else, malformed input included, is declined
 * (undefined) and goes to fromBinary, which stays the reference; the codec test checks that both
 * agree on every canonical message.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export interface RelayedShare {
  readonly peerId: number;
  readonly ciphertext: Uint8Array;
}

export interface HeldShare {
  readonly ownerId: number;
  readonly value: Uint8Array;
}

export type RelayedClientBody =
  | { readonly case: 'shareKeys'; readonly shares: RelayedShare[] }
  | { readonly case: 'unmask'; readonly seedShares: HeldShare[]; readonly keyShares: HeldShare[] };

// ClientMessage.body
const SHARE_KEYS = 3;
const UNMASK = 5;

/** Thrown inside the fast path when the layout is not canonical; never escapes this module. */
class NotCanonical extends Error {}

/** An element { 1: uint32 (optional), 2: bytes (optional) } spanning `end`. */
function element(reader: BinaryReader, end: number): [number, Uint8Array] {
  let id = 0;
  let bytes: Uint8Array = new Uint8Array(0);
  let next = 1;
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    if (field === 1 && next === 1 && wireType === WireType.Varint) id = reader.uint32();
    else if (field === 2 && next <= 2 && wireType === WireType.LengthDelimited)
      bytes = reader.bytes();
    else throw new NotCanonical();
    next = field + 1;
  }
  if (reader.pos !== end) throw new NotCanonical();
  return [id, bytes];
}

/** The repeated element fields of a body spanning `end`, by field number (1 or `fields`). */
function elements(reader: BinaryReader, end: number, fields: number): [number, Uint8Array][][] {
  const out: [number, Uint8Array][][] = Array.from({ length: fields }, () => []);
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    if (field < 1 || field > fields || wireType !== WireType.LengthDelimited)
      throw new NotCanonical();
    const length = reader.uint32();
    (out[field - 1] as [number, Uint8Array][]).push(element(reader, reader.pos + length));
  }
  if (reader.pos !== end) throw new NotCanonical();
  return out;
}

/** The body of a canonical share-keys or unmask client message; undefined for anything else. */
export function decodeRelayedClientBody(bytes: Uint8Array): RelayedClientBody | undefined {
  try {
    const reader = new BinaryReader(bytes);
    const [field, wireType] = reader.tag();
    if (wireType !== WireType.LengthDelimited || (field !== SHARE_KEYS && field !== UNMASK))
      return undefined;
    const end = reader.uint32() + reader.pos;
    if (end !== bytes.length) return undefined;
    if (field === SHARE_KEYS) {
      const [shares] = elements(reader, end, 1) as [[number, Uint8Array][]];
      return {
        case: 'shareKeys',
        shares: shares.map(([peerId, ciphertext]) => ({ peerId, ciphertext })),
      };
    }
    const [seed, key] = elements(reader, end, 2) as [
      [number, Uint8Array][],
      [number, Uint8Array][],
    ];
    const held = ([ownerId, value]: [number, Uint8Array]) => ({ ownerId, value });
    return { case: 'unmask', seedShares: seed.map(held), keyShares: key.map(held) };
  } catch {
    // NotCanonical, or the reader ran past the end: fromBinary decides.
    return undefined;
  }
}
