/**
 * Protobuf encoding of split-learning messages (src/vertical/proto/sepal/vertical/v1/
 * vertical.proto). Matrices travel as little-endian float32 bytes. The codec checks structure
 * (a body, a matrix whose byte length matches rows x cols); the parties check meaning (step,
 * shape, finite values).
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as pb from '../../gen/sepal/vertical/v1/vertical_pb.js';
import { PeerError } from '../errors.js';
import type { Matrix, SplitMessage } from './messages.js';

function matrixBytes(matrix: Matrix): Uint8Array {
  const bytes = new Uint8Array(matrix.data.length * 4);
  const view = new DataView(bytes.buffer);
  matrix.data.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return bytes;
}

/** A decoded Matrix message; `fail` is called for a missing matrix or a wrong byte length. */
export function toMatrix(matrix: pb.Matrix | undefined, fail: (message: string) => never): Matrix {
  if (matrix === undefined) return fail('message without its matrix');
  const { rows, cols, data } = matrix;
  if (data.length !== rows * cols * 4) {
    fail(`matrix of ${rows} x ${cols} float32 needs ${rows * cols * 4} bytes, got ${data.length}`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return { rows, cols, data: values };
}

export const matrixMessage = (m: Matrix): pb.Matrix =>
  create(pb.MatrixSchema, { rows: m.rows, cols: m.cols, data: matrixBytes(m) });

export function encodeSplitMessage(message: SplitMessage): Uint8Array {
  let body: pb.SplitMessage['body'];
  switch (message.kind) {
    case 'embedding':
      body = { case: 'embedding', value: matrixMessage(message.embedding) };
      break;
    case 'gradient':
      body = { case: 'gradient', value: matrixMessage(message.gradient) };
      break;
    case 'abort':
      body = { case: 'abort', value: message.reason };
      break;
  }
  return toBinary(
    pb.SplitMessageSchema,
    create(pb.SplitMessageSchema, { step: message.step, body }),
  );
}

/** Decodes a message that `sender` sent to `receiver`; throws PeerError naming both. */
export function decodeSplitMessage(
  bytes: Uint8Array,
  receiver: string,
  sender: string,
): SplitMessage {
  const fail = (text: string): never => {
    throw new PeerError(receiver, sender, text);
  };
  let message: pb.SplitMessage;
  try {
    message = fromBinary(pb.SplitMessageSchema, bytes);
  } catch (error) {
    return fail(`malformed split-learning message: ${(error as Error).message}`);
  }
  const { step, body } = message;
  switch (body.case) {
    case 'embedding':
      return { kind: 'embedding', step, embedding: toMatrix(body.value, fail) };
    case 'gradient':
      return { kind: 'gradient', step, gradient: toMatrix(body.value, fail) };
    case 'abort':
      return { kind: 'abort', step, reason: body.value };
    default:
      return fail('split-learning message with no body');
  }
}
