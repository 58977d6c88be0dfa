/**
 * The FleetService handlers: authenticate, rate-limit, then hand the request to the Fleet. Every
 * error a node can cause becomes a status code (errors.ts); anything else is an internal error
 * whose details stay in the server's log, so a bad request never crashes the server or leaks.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import * as pb from '../../gen/sepal/fleet/v1/fleet_pb.js';
import { isFleetError } from '../errors.js';
import type { NodeAuthenticator } from './auth.js';
import type { Fleet } from './fleet.js';
import type { RateLimiter } from './rate-limit.js';
import type { Session } from './session.js';

export interface ServiceOptions {
  readonly fleet: Fleet;
  readonly authenticator: NodeAuthenticator;
  readonly rateLimiter: RateLimiter;
  /** Where unexpected errors are reported (never sent to the node). */
  readonly onInternalError?: (error: unknown, method: string) => void;
}

export function fleetService(options: ServiceOptions): ServiceImpl<typeof pb.FleetService> {
  const { fleet, authenticator, rateLimiter } = options;

  const guard =
    <I, O>(method: string, handler: (request: I, ctx: HandlerContext) => Promise<O>) =>
    async (request: I, ctx: HandlerContext): Promise<O> => {
      try {
        return await handler(request, ctx);
      } catch (error) {
        if (isFleetError(error)) throw new ConnectError(error.message, error.code);
        options.onInternalError?.(error, method);
        throw new ConnectError(`internal error in ${method}`, Code.Internal);
      }
    };

  /** The caller's live session, after authentication and its rate limit. */
  const sessionOf = (sessionId: string, ctx: HandlerContext): Session => {
    const session = fleet.session(sessionId, authenticator.keyOf(ctx));
    rateLimiter.take(session.node);
    return session;
  };

  return {
    register: guard('Register', async (request: pb.RegisterRequest, ctx) => {
      const { node, key } = authenticator.register(ctx, request.nodeName);
      rateLimiter.take(node);
      const session = fleet.register(node, key);
      const { heartbeatIntervalMs, pollTimeoutMs, runId } = fleet.options;
      return create(pb.RegisterResponseSchema, {
        sessionId: session.id,
        runId,
        nodeName: node,
        heartbeatIntervalMs,
        pollTimeoutMs,
      });
    }),
    pullTask: guard('PullTask', async (request: pb.PullTaskRequest, ctx) => {
      const session = sessionOf(request.sessionId, ctx);
      const task = fleet.finished
        ? undefined
        : await session.pull(fleet.options.pollTimeoutMs, ctx.signal);
      return create(
        pb.PullTaskResponseSchema,
        task === undefined ? { runFinished: fleet.finished } : { task },
      );
    }),
    pushResult: guard('PushResult', async (request: pb.PushResultRequest, ctx) => {
      sessionOf(request.sessionId, ctx).complete(request);
      return create(pb.PushResultResponseSchema);
    }),
    heartbeat: guard('Heartbeat', async (request: pb.HeartbeatRequest, ctx) => {
      sessionOf(request.sessionId, ctx).touch();
      return create(pb.HeartbeatResponseSchema);
    }),
  };
}
