/**
 * A node of a deployment: registers with the server, long-polls for tasks, runs them on a
 * ClientHost (the same host as in simulation, so a networked client trains and masks exactly
 * like a simulated one) and pushes the results, until the server says the run is over.
 *
 * Failures it recovers from by itself:
 * - the server is unreachable or restarted (UNAVAILABLE, NOT_FOUND for its session): it
 *   registers again, waiting with exponential backoff and jitter while the server is down;
 * - a result the server no longer wants (FAILED_PRECONDITION): dropped, the node polls on.
 * An identity the server refuses (UNAUTHENTICATED, PERMISSION_DENIED, which includes failed
 * attestation), or a server that fails the node's attestation checks (PeerAttestationError),
 * ends the node with that error: retrying cannot fix it.
 */
import { create } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createClient,
  type Client as RpcClient,
  type Transport,
} from '@connectrpc/connect';
import type { ClientHost } from '../../fl/client-host.js';
import * as pb from '../../gen/sepal/fleet/v1/fleet_pb.js';
import { decodeServerMessage } from '../../secagg/codec.js';
import type { Stage } from '../../secagg/stages.js';
import {
  decodeConfig,
  decodeParameters,
  encodeEvaluateRes,
  encodeFitRes,
  encodeParameters,
} from '../wire.js';
import { PeerAttestationError } from '../errors.js';
import { Backoff, sleep, type BackoffOptions } from './backoff.js';

/** What runs the tasks: a ClientHost, or anything answering like one. */
export type TaskHost = Pick<ClientHost, 'getParameters' | 'fit' | 'evaluate'> & {
  secAgg(round: number, message: Uint8Array): Uint8Array | Promise<Uint8Array>;
};

export type NodeEvent =
  | { readonly type: 'registered'; readonly node: string; readonly runId: string }
  | {
      readonly type: 'task';
      readonly round: number;
      readonly kind: string;
      /** The SecAgg stage of a secAgg task. */
      readonly stage?: Stage | undefined;
    }
  | { readonly type: 'retry'; readonly error: string; readonly delayMs: number }
  /** The server refused a result (stale, malformed or oversized); the node polls on. */
  | { readonly type: 'refused'; readonly error: string }
  | { readonly type: 'finished' };

export interface NodeOptions {
  readonly transport: Transport;
  readonly host: TaskHost;
  /** The name to register with when the server has no TLS (ignored otherwise, may be empty). */
  readonly nodeName?: string;
  readonly backoff?: BackoffOptions;
  readonly onEvent?: (event: NodeEvent) => void;
  /** Stops the node (between requests, and in any wait). */
  readonly signal?: AbortSignal;
}

/** Refusals of the node's identity: no retry can fix them. */
const FATAL = new Set([Code.Unauthenticated, Code.PermissionDenied]);
/** Refusals of one result: the node drops it and polls on. */
const REFUSED = new Set([Code.FailedPrecondition, Code.InvalidArgument, Code.ResourceExhausted]);

const callOptions = (signal: AbortSignal | undefined) => (signal === undefined ? {} : { signal });

/** The server failed this node's attestation checks: no retry can fix that either. */
function attestationFailure(error: Error): PeerAttestationError | undefined {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof PeerAttestationError) return cause;
  }
  return undefined;
}

/** The session ended on the server's side: register again at once. */
class SessionLost extends Error {}

export async function runNode(options: NodeOptions): Promise<void> {
  const rpc = createClient(pb.FleetService, options.transport);
  const backoff = new Backoff(options.backoff ?? { initialMs: 100, maxMs: 10_000 });
  const emit = options.onEvent ?? (() => undefined);
  const { signal } = options;
  const stopped = () => signal?.aborted === true;
  while (!stopped()) {
    try {
      const registration = await rpc.register(
        create(pb.RegisterRequestSchema, { nodeName: options.nodeName ?? '' }),
        callOptions(signal),
      );
      backoff.reset();
      emit({ type: 'registered', node: registration.nodeName, runId: registration.runId });
      if (await serve(rpc, registration, options)) {
        emit({ type: 'finished' });
        return;
      }
    } catch (error) {
      if (stopped()) return;
      if (error instanceof SessionLost) continue;
      const connectError = ConnectError.from(error);
      if (FATAL.has(connectError.code)) throw connectError;
      const attestation = attestationFailure(connectError);
      if (attestation !== undefined) throw attestation;
      const delayMs = backoff.next();
      emit({ type: 'retry', error: connectError.message, delayMs });
      await sleep(delayMs, signal);
    }
  }
}

/** Serves one session; true when the run finished, SessionLost when the session ended. */
async function serve(
  rpc: RpcClient<typeof pb.FleetService>,
  registration: pb.RegisterResponse,
  options: NodeOptions,
): Promise<boolean> {
  const { sessionId, pollTimeoutMs, heartbeatIntervalMs } = registration;
  const signal = options.signal;
  const sessionCall = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (ConnectError.from(error).code === Code.NotFound) throw new SessionLost();
      throw error;
    }
  };
  while (signal?.aborted !== true) {
    const { task, runFinished } = await sessionCall(() =>
      rpc.pullTask(create(pb.PullTaskRequestSchema, { sessionId }), {
        ...callOptions(signal),
        // The server answers within its poll time; the margin covers a slow network.
        timeoutMs: pollTimeoutMs + 30_000,
      }),
    );
    if (runFinished) return true;
    if (task === undefined) continue;
    // Heartbeats keep the session alive while the task runs (training may take minutes).
    const heartbeat = setInterval(() => {
      rpc.heartbeat(create(pb.HeartbeatRequestSchema, { sessionId })).catch(() => undefined);
    }, heartbeatIntervalMs);
    let result: pb.PushResultRequest['result'];
    try {
      result = await execute(task, options);
    } finally {
      clearInterval(heartbeat);
    }
    const { taskId, runId, round } = task;
    try {
      await sessionCall(() =>
        rpc.pushResult(
          create(pb.PushResultRequestSchema, { sessionId, taskId, runId, round, result }),
          callOptions(signal),
        ),
      );
    } catch (error) {
      const connectError = error instanceof SessionLost ? undefined : ConnectError.from(error);
      if (connectError === undefined || !REFUSED.has(connectError.code)) throw error;
      options.onEvent?.({ type: 'refused', error: connectError.message });
    }
  }
  return false;
}

/** Runs one task; a task the host cannot do is answered with a Failure naming why. */
async function execute(
  task: pb.Task,
  options: NodeOptions,
): Promise<pb.PushResultRequest['result']> {
  const { host } = options;
  const { kind, round } = task;
  try {
    switch (kind.case) {
      case 'getParameters':
        options.onEvent?.({ type: 'task', round, kind: kind.case });
        return {
          case: 'parameters',
          value: encodeParameters(
            await host.getParameters(decodeConfig(kind.value.config, 'config')),
          ),
        };
      case 'fit': {
        options.onEvent?.({ type: 'task', round, kind: kind.case });
        const res = await host.fit({
          parameters: decodeParameters(kind.value.parameters, 'fit.parameters'),
          config: decodeConfig(kind.value.config, 'fit.config'),
          ...(kind.value.secure ? { secureRound: round } : {}),
        });
        return { case: 'fit', value: encodeFitRes(res) };
      }
      case 'evaluate': {
        options.onEvent?.({ type: 'task', round, kind: kind.case });
        const res = await host.evaluate({
          parameters: decodeParameters(kind.value.parameters, 'evaluate.parameters'),
          config: decodeConfig(kind.value.config, 'evaluate.config'),
        });
        return { case: 'evaluate', value: encodeEvaluateRes(res) };
      }
      case 'secAgg': {
        const { message } = kind.value;
        options.onEvent?.({ type: 'task', round, kind: kind.case, stage: stageOf(message) });
        return {
          case: 'secAgg',
          value: create(pb.SecAggResultSchema, { message: await host.secAgg(round, message) }),
        };
      }
      case undefined:
        throw new Error(`task ${task.taskId} has no kind this node knows`);
    }
  } catch (error) {
    return {
      case: 'failure',
      value: create(pb.FailureSchema, { reason: (error as Error).message }),
    };
  }
}

/** The stage of an encoded SecAgg server message, for progress reports; undefined if garbled. */
function stageOf(message: Uint8Array): Stage | undefined {
  try {
    return decodeServerMessage(message).stage;
  } catch {
    return undefined;
  }
}
