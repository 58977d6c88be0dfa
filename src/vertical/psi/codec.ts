/**
 * Protobuf encoding of PSI messages (src/vertical/proto/sepal/vertical/v1/vertical.proto). The
 * codec checks structure only; the receiving party validates the points themselves.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as pb from '../../gen/sepal/vertical/v1/vertical_pb.js';
import { PeerError } from '../errors.js';
import type { PsiMessage } from './messages.js';

export function encodePsiMessage(message: PsiMessage): Uint8Array {
  const body: pb.PsiMessage['body'] =
    message.kind === 'blinded'
      ? { case: 'blinded', value: message.points }
      : { case: 'doubleBlinded', value: message.points };
  return toBinary(pb.PsiMessageSchema, create(pb.PsiMessageSchema, { body }));
}

/** Decodes a message that `sender` sent to `receiver`; throws PeerError naming both. */
export function decodePsiMessage(bytes: Uint8Array, receiver: string, sender: string): PsiMessage {
  let message: pb.PsiMessage;
  try {
    message = fromBinary(pb.PsiMessageSchema, bytes);
  } catch (error) {
    throw new PeerError(receiver, sender, `malformed PSI message: ${(error as Error).message}`);
  }
  switch (message.body.case) {
    case 'blinded':
      return { kind: 'blinded', points: message.body.value };
    case 'doubleBlinded':
      return { kind: 'double-blinded', points: message.body.value };
    default:
      throw new PeerError(receiver, sender, 'PSI message with no body');
  }
}
