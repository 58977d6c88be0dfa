/**
 * Conversions between the framework's types (src/fl) and the fleet protocol's messages
 * (proto/sepal/fleet/v1/fleet.proto). Decoding validates what a peer could get wrong and throws
 * WireError naming the field; encoding trusts the framework's own values.
 *
 * Tensor values travel as float32 little-endian bytes. Every platform Node and current browsers
 * run on is little-endian, so a Float32Array's own bytes are the wire bytes (asserted below).
 */
import { create } from '@bufbuild/protobuf';
import type { Config, EvaluateRes, FitRes } from '../fl/client.js';
import type { Metrics } from '../fl/history.js';
import { sizeOf, type Parameters as FlParameters } from '../fl/parameters.js';
import * as pb from '../gen/sepal/fleet/v1/fleet_pb.js';
import { WireError } from './errors.js';

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('sepal deploy: tensors are sent as little-endian float32; this host is not');
}

export function encodeParameters(parameters: FlParameters): pb.Parameters {
  return create(pb.ParametersSchema, {
    tensors: parameters.map(({ name, shape, values }) => ({
      name,
      shape: [...shape],
      values: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    })),
  });
}

export function decodeParameters(message: pb.Parameters | undefined, field: string): FlParameters {
  if (message === undefined) throw new WireError(field, 'is missing');
  const names = new Set<string>();
  return message.tensors.map(({ name, shape, values }, i) => {
    const where = `${field}.tensors[${i}] (${name})`;
    if (names.has(name)) throw new WireError(where, 'repeats a tensor name');
    names.add(name);
    const expected = 4 * sizeOf(shape);
    if (values.length !== expected) {
      throw new WireError(
        where,
        `has ${values.length} value bytes, its shape [${shape.join(', ')}] needs ${expected}`,
      );
    }
    // A copy into a buffer of its own: the decoded bytes may be an unaligned view into the
    // request body, or a Node Buffer, whose slice() is a view of a shared pool, not a copy.
    return { name, shape, values: new Float32Array(new Uint8Array(values).buffer) };
  });
}

export function encodeConfig(config: Config): Record<string, pb.ConfigValue> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key,
      create(pb.ConfigValueSchema, {
        value:
          typeof value === 'number'
            ? { case: 'number', value }
            : typeof value === 'string'
              ? { case: 'text', value }
              : { case: 'flag', value },
      }),
    ]),
  );
}

export function decodeConfig(config: Record<string, pb.ConfigValue>, field: string): Config {
  return Object.fromEntries(
    Object.entries(config).map(([key, { value }]) => {
      if (value.case === undefined) throw new WireError(`${field}.${key}`, 'has no value');
      return [key, value.value];
    }),
  );
}

function decodeMetrics(metrics: Record<string, number>): Metrics {
  return { ...metrics };
}

/** The wire count of examples: a whole number (uint32), as every trainer reports it. */
function encodeCount(numExamples: number): number {
  if (!Number.isInteger(numExamples) || numExamples < 0 || numExamples > 0xffffffff) {
    throw new WireError('numExamples', `must be a whole number of examples, got ${numExamples}`);
  }
  return numExamples;
}

export const encodeFitRes = (res: FitRes): pb.FitResult =>
  create(pb.FitResultSchema, {
    parameters: encodeParameters(res.parameters),
    numExamples: encodeCount(res.numExamples),
    metrics: { ...res.metrics },
  });

export const decodeFitRes = (message: pb.FitResult): FitRes => ({
  parameters: decodeParameters(message.parameters, 'fit.parameters'),
  numExamples: message.numExamples,
  metrics: decodeMetrics(message.metrics),
});

export const encodeEvaluateRes = (res: EvaluateRes): pb.EvaluateResult =>
  create(pb.EvaluateResultSchema, {
    loss: res.loss,
    numExamples: encodeCount(res.numExamples),
    metrics: { ...res.metrics },
  });

export const decodeEvaluateRes = (message: pb.EvaluateResult): EvaluateRes => ({
  loss: message.loss,
  numExamples: message.numExamples,
  metrics: decodeMetrics(message.metrics),
});
