/**
 * The server loop's handle on a networked node: each ClientProxy call becomes one task of the
 * node's session, answered by the node's PushResult. The loop cannot tell it from an in-process
 * client, except that a dead session makes every call reject at once.
 */
import { create } from '@bufbuild/protobuf';
import type { ClientProxy } from '../../fl/client.js';
import * as pb from '../../gen/sepal/fleet/v1/fleet_pb.js';
import { WireError } from '../errors.js';
import {
  decodeEvaluateRes,
  decodeFitRes,
  decodeParameters,
  encodeConfig,
  encodeParameters,
} from '../wire.js';
import type { Session, TaskResult } from './session.js';

/** A node answered a task with a result of another kind. */
function unexpected(result: TaskResult, want: TaskResult['case']): never {
  throw new WireError('result', `expected a ${want} result, got ${result.case}`);
}

/** `round()` is the round in progress, which stamps tasks whose instructions do not carry it. */
export function remoteProxy(session: Session, round: () => number): ClientProxy {
  return {
    id: session.node,
    getParameters: (config, signal) =>
      session.call(
        0,
        {
          case: 'getParameters',
          value: create(pb.GetParametersTaskSchema, { config: encodeConfig(config) }),
        },
        (result) =>
          result.case === 'parameters'
            ? decodeParameters(result.value, 'parameters')
            : unexpected(result, 'parameters'),
        signal,
      ),
    fit: (ins, signal) =>
      session.call(
        ins.secureRound ?? round(),
        {
          case: 'fit',
          value: create(pb.FitTaskSchema, {
            parameters: encodeParameters(ins.parameters),
            config: encodeConfig(ins.config),
            secure: ins.secureRound !== undefined,
          }),
        },
        (result) =>
          result.case === 'fit' ? decodeFitRes(result.value) : unexpected(result, 'fit'),
        signal,
      ),
    evaluate: (ins, signal) =>
      session.call(
        round(),
        {
          case: 'evaluate',
          value: create(pb.EvaluateTaskSchema, {
            parameters: encodeParameters(ins.parameters),
            config: encodeConfig(ins.config),
          }),
        },
        (result) =>
          result.case === 'evaluate'
            ? decodeEvaluateRes(result.value)
            : unexpected(result, 'evaluate'),
        signal,
      ),
    secAgg: (secureRound, message, signal) =>
      session.call(
        secureRound,
        { case: 'secAgg', value: create(pb.SecAggTaskSchema, { message }) },
        (result) =>
          result.case === 'secAgg' ? result.value.message : unexpected(result, 'secAgg'),
        signal,
      ),
  };
}
