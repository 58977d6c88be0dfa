/**
 * VerticalService (proto/sepal/vertical/v1/vertical.proto) over an ActiveSession: each RPC is one
 * session call, and the vertical errors become status codes in one place. A refused message
 * (PeerError: malformed, out of order, NaN, wrong shape) is INVALID_ARGUMENT and changes nothing;
 * a plan that differs is FAILED_PRECONDITION.
 */
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import * as pb from '../../gen/sepal/vertical/v1/vertical_pb.js';
import { PeerError, VerticalInputError } from '../errors.js';
import type { ActiveSession, Caller } from './active-session.js';
import { PlanMismatchError } from './errors.js';

export function verticalService(
  session: ActiveSession,
  callerOf: (context: HandlerContext) => Caller,
  onInternalError: (error: unknown, method: string) => void = () => undefined,
): ServiceImpl<typeof pb.VerticalService> {
  const guarded =
    <I, O>(method: string, handle: (request: I, caller: Caller) => Promise<O>) =>
    async (request: I, context: HandlerContext): Promise<O> => {
      try {
        return await handle(request, callerOf(context));
      } catch (error) {
        throw toConnectError(error, method, onInternalError);
      }
    };
  return {
    open: guarded('Open', (request: pb.OpenRequest, caller) => session.open(caller, request)),
    psi: guarded('Psi', (request: pb.PsiRequest, caller) =>
      session.psiMessages(caller, request.session, request.messages),
    ),
    step: guarded('Step', async (request: pb.StepRequest, caller) => ({
      message: await session.step(caller, request.session, request.message),
    })),
    evaluate: guarded('Evaluate', async (request: pb.EvaluateRequest, caller) => ({
      accuracy: await session.evaluate(caller, request.session, request.embedding),
    })),
    finish: guarded('Finish', async (request: pb.FinishRequest, caller) => ({
      steps: await session.finish(caller, request.session, request.steps, request.abandon),
    })),
  };
}

function toConnectError(
  error: unknown,
  method: string,
  onInternalError: (error: unknown, method: string) => void,
): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof PlanMismatchError)
    return new ConnectError(error.message, Code.FailedPrecondition);
  if (error instanceof PeerError) return new ConnectError(error.message, Code.InvalidArgument);
  // The active party's own data could not be used (e.g. an aligned id it does not hold). Not
  // ABORTED: connect-node reports a reset connection as ABORTED, and the passive party retries it.
  if (error instanceof VerticalInputError) {
    return new ConnectError(error.message, Code.FailedPrecondition);
  }
  onInternalError(error, method);
  return new ConnectError('internal error', Code.Internal);
}
