/**
 * The one binary encoding of protocol messages: protobuf (proto/sepal/secagg/v1/secagg.proto).
 * The simulator counts these bytes, so the sizes it reports are the sizes on the wire.
 *
 * Decoding validates every field whose size the protocol fixes and throws ProtocolError naming
 * the field; the state machines then validate meaning (ids, counts, stages).
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { X25519_KEY_BYTES } from '../crypto/agreement.js';
import { decodeShareValue, encodeShareValue, shareElements } from '../crypto/shamir.js';
import * as pb from '../gen/sepal/secagg/v1/secagg_pb.js';
import { ProtocolError } from './errors.js';
import type { ClientMessage, EncryptedShare, OwnedShare, ServerMessage } from './messages.js';
import { pack, unpack } from './packing.js';
import { encodeAskVectors, encodeMaskedVector, encodeShareKeys } from './relay-encoding.js';
import { decodeRelayedClientBody, type HeldShare, type RelayedShare } from './relay-decoding.js';
import type { RoundParams } from './params.js';
import { ROUND_ID_BYTES, SECRET_BYTES } from './derive.js';

function decode<T>(parse: () => T, what: string): T {
  try {
    return parse();
  } catch (error) {
    throw new ProtocolError(`malformed ${what}: ${(error as Error).message}`);
  }
}

function fixedBytes(bytes: Uint8Array, length: number, field: string): Uint8Array {
  if (bytes.length !== length) {
    throw new ProtocolError(`${field} must be ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

const key = (bytes: Uint8Array, field: string) => fixedBytes(bytes, X25519_KEY_BYTES, field);

function shareValue(bytes: Uint8Array, field: string): Uint32Array {
  try {
    return decodeShareValue(bytes, SECRET_BYTES);
  } catch (error) {
    throw new ProtocolError(`${field}: ${(error as Error).message}`);
  }
}

const toEncryptedShares = (shares: readonly EncryptedShare[]) =>
  shares.map((s) => create(pb.EncryptedShareSchema, { peerId: s.peer, ciphertext: s.ciphertext }));
const fromEncryptedShares = (shares: readonly RelayedShare[]): EncryptedShare[] =>
  shares.map((s) => ({ peer: s.peerId, ciphertext: s.ciphertext }));
const toSecretShares = (shares: readonly OwnedShare[]) =>
  shares.map((s) =>
    create(pb.SecretShareSchema, { ownerId: s.owner, value: encodeShareValue(s.value) }),
  );
const fromSecretShares = (shares: readonly HeldShare[], field: string): OwnedShare[] =>
  shares.map((s) => ({ owner: s.ownerId, value: shareValue(s.value, field) }));

export function encodeServerMessage(message: ServerMessage): Uint8Array {
  let body: pb.ServerMessage['body'];
  switch (message.stage) {
    case 'setup':
      body = {
        case: 'setup',
        value: create(pb.SetupSchema, {
          roundId: message.roundId,
          clientId: message.clientId,
          params: create(pb.RoundParamsSchema, message.params),
        }),
      };
      break;
    case 'ask-keys':
      body = { case: 'askKeys', value: create(pb.AskKeysSchema) };
      break;
    // The two bulky relays are written by hand (see relay-encoding.ts): same bytes, less CPU.
    case 'share-keys':
      return encodeShareKeys(message.neighbours);
    case 'ask-vectors':
      return encodeAskVectors(message.shares);
    case 'unmask':
      body = {
        case: 'unmask',
        value: create(pb.UnmaskSchema, {
          survivors: [...message.survivors],
          dropped: [...message.dropped],
        }),
      };
      break;
  }
  return toBinary(pb.ServerMessageSchema, create(pb.ServerMessageSchema, { body }));
}

function fromRoundParams(params: pb.RoundParams | undefined): RoundParams {
  if (params === undefined) throw new ProtocolError('setup carries no parameters');
  const {
    sampledClients,
    dim,
    shareNum,
    threshold,
    minClients,
    clippingRange,
    targetRange,
    maxWeight,
    modBits,
  } = params;
  return {
    sampledClients,
    dim,
    shareNum,
    threshold,
    minClients,
    clippingRange,
    targetRange,
    maxWeight,
    modBits,
  };
}

export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  const { body } = decode(() => fromBinary(pb.ServerMessageSchema, bytes), 'server message');
  switch (body.case) {
    case 'setup':
      return {
        stage: 'setup',
        roundId: fixedBytes(body.value.roundId, ROUND_ID_BYTES, 'setup.roundId'),
        clientId: body.value.clientId,
        params: fromRoundParams(body.value.params),
      };
    case 'askKeys':
      return { stage: 'ask-keys' };
    case 'shareKeys':
      return {
        stage: 'share-keys',
        neighbours: body.value.neighbours.map((n) => ({
          clientId: n.clientId,
          encryptionKey: key(n.encryptionKey, `share-keys: client ${n.clientId} encryptionKey`),
          maskKey: key(n.maskKey, `share-keys: client ${n.clientId} maskKey`),
        })),
      };
    case 'askVectors':
      return { stage: 'ask-vectors', shares: fromEncryptedShares(body.value.shares) };
    case 'unmask':
      return { stage: 'unmask', survivors: body.value.survivors, dropped: body.value.dropped };
    case undefined:
      throw new ProtocolError('server message has no body');
  }
}

/** Encodes a client message; masked vectors are packed at `modBits` bits per entry. */
export function encodeClientMessage(message: ClientMessage, modBits: number): Uint8Array {
  let body: pb.ClientMessage['body'];
  switch (message.stage) {
    case 'setup':
      body = { case: 'setup', value: create(pb.SetupAcceptedSchema) };
      break;
    case 'ask-keys':
      body = {
        case: 'askKeys',
        value: create(pb.PublicKeysSchema, {
          encryptionKey: message.encryptionKey,
          maskKey: message.maskKey,
        }),
      };
      break;
    case 'share-keys':
      body = {
        case: 'shareKeys',
        value: create(pb.EncryptedSharesSchema, { shares: toEncryptedShares(message.shares) }),
      };
      break;
    // The masked vector is written by hand (see relay-encoding.ts): one copy of it, not two.
    case 'ask-vectors':
      return encodeMaskedVector(
        message.vector.length,
        pack(message.vector, modBits),
        message.invalidShareSenders,
      );
    case 'unmask':
      body = {
        case: 'unmask',
        value: create(pb.UnmaskSharesSchema, {
          seedShares: toSecretShares(message.seedShares),
          keyShares: toSecretShares(message.keyShares),
        }),
      };
      break;
    case 'abort':
      body = { case: 'abort', value: create(pb.AbortSchema, { reason: message.reason }) };
      break;
  }
  return toBinary(pb.ClientMessageSchema, create(pb.ClientMessageSchema, { body }));
}

function unmaskShares(seedShares: readonly HeldShare[], keyShares: readonly HeldShare[]) {
  return {
    stage: 'unmask',
    seedShares: fromSecretShares(seedShares, 'unmask.seedShares'),
    keyShares: fromSecretShares(keyShares, 'unmask.keyShares'),
  } as const;
}

export function decodeClientMessage(bytes: Uint8Array, modBits: number): ClientMessage {
  // The two bulky messages in the layout our encoder writes are read by hand (relay-decoding.ts).
  const relayed = decodeRelayedClientBody(bytes);
  if (relayed?.case === 'shareKeys')
    return { stage: 'share-keys', shares: fromEncryptedShares(relayed.shares) };
  if (relayed?.case === 'unmask') return unmaskShares(relayed.seedShares, relayed.keyShares);
  const { body } = decode(() => fromBinary(pb.ClientMessageSchema, bytes), 'client message');
  switch (body.case) {
    case 'setup':
      return { stage: 'setup' };
    case 'askKeys':
      return {
        stage: 'ask-keys',
        encryptionKey: key(body.value.encryptionKey, 'ask-keys.encryptionKey'),
        maskKey: key(body.value.maskKey, 'ask-keys.maskKey'),
      };
    case 'shareKeys':
      return { stage: 'share-keys', shares: fromEncryptedShares(body.value.shares) };
    case 'askVectors':
      return {
        stage: 'ask-vectors',
        vector: unpack(body.value.packed, body.value.length, modBits),
        invalidShareSenders: body.value.invalidShareSenders,
      };
    case 'unmask':
      return unmaskShares(body.value.seedShares, body.value.keyShares);
    case 'abort':
      return { stage: 'abort', reason: body.value.reason.slice(0, 500) };
    case undefined:
      throw new ProtocolError('client message has no body');
  }
}

/** The plaintext sealed inside an EncryptedShare: one client's two shares for one holder. */
export interface SharePair {
  readonly keyShare: Uint32Array;
  readonly seedShare: Uint32Array;
}

export function encodeSharePair(pair: SharePair): Uint8Array {
  return toBinary(
    pb.SharePairSchema,
    create(pb.SharePairSchema, {
      keyShare: encodeShareValue(pair.keyShare),
      seedShare: encodeShareValue(pair.seedShare),
    }),
  );
}

export function decodeSharePair(bytes: Uint8Array): SharePair {
  const pair = decode(() => fromBinary(pb.SharePairSchema, bytes), 'share pair');
  return {
    keyShare: shareValue(pair.keyShare, 'share pair keyShare'),
    seedShare: shareValue(pair.seedShare, 'share pair seedShare'),
  };
}

/** Bytes of every encoded share pair (share values have a fixed size). */
export const SHARE_PAIR_BYTES = encodeSharePair({
  keyShare: new Uint32Array(shareElements(SECRET_BYTES)),
  seedShare: new Uint32Array(shareElements(SECRET_BYTES)),
}).length;
