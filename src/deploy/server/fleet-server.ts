/**
 * The networked server: the framework's server loop (fl/server.ts) driving nodes through the
 * fleet service, with its state in SQLite. Start it, wait for enough nodes, run the rounds:
 *
 *   const server = await startFleetServer({ ... });
 *   const result = await server.run();   // resumes after the last completed round, if any
 *   await server.close();
 *
 * Restarted after a crash with the same job, it continues the unfinished run: the loop loads the
 * last checkpoint (parameters, history, strategy state) and re-runs the round that was cut off;
 * nodes find their sessions gone and register again.
 */
import type { ClientProxy } from '../../fl/client.js';
import type { ServerEvent } from '../../fl/events.js';
import { runServer, type RunResult, type ServerOptions } from '../../fl/server.js';
import type { Strategy } from '../../fl/strategy/strategy.js';
import { AllowList } from './allow-list.js';
import { allowListAuthenticator, namedAuthenticator, refusingUnidentified } from './auth.js';
import { Fleet, type NodeEvent } from './fleet.js';
import { listen, type ServerTls } from './listen.js';
import { RateLimiter, type RateLimit } from './rate-limit.js';
import { fleetService } from './service.js';
import { type BlobSealer, ServerStore } from './store.js';
import * as pb from '../../gen/sepal/fleet/v1/fleet_pb.js';

export interface FleetServerOptions {
  readonly host: string;
  readonly port: number;
  /** TLS with client certificates; required with `allowList`. */
  readonly tls?: ServerTls;
  /** The allow-list file; without it (and without TLS) nodes name themselves. */
  readonly allowList?: string;
  /** The SQLite database. */
  readonly database: string;
  /** Seals every checkpoint written to the database (confidential mode; store.ts). */
  readonly sealer?: BlobSealer;
  /** The job's identity (its config as JSON): a run resumes only under the same job. */
  readonly job: string;
  /** Abandon an unfinished run of another job instead of refusing to start. */
  readonly newRun?: boolean;
  readonly strategy: Strategy;
  readonly numRounds: number;
  /** Nodes that must be registered before the first round. */
  readonly minNodes: number;
  readonly roundTimeoutMs?: number;
  readonly secAggStageTimeoutMs?: number;
  /** Ends the run after a round for which this is true (a target accuracy reached). */
  readonly stopWhen?: ServerOptions['stopWhen'];
  readonly heartbeatIntervalMs: number;
  readonly livenessTimeoutMs: number;
  readonly pollTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly rateLimit: RateLimit;
  readonly onEvent?: (event: ServerEvent | NodeEvent | WaitingEvent) => void;
  /** Unexpected errors inside request handlers (the node only learns "internal error"). */
  readonly onInternalError?: (error: unknown, method: string) => void;
}

export interface WaitingEvent {
  readonly type: 'waiting';
  readonly registered: number;
  readonly needed: number;
}

export interface FleetServer {
  readonly url: string;
  readonly runId: string;
  /** True when an unfinished run of this job was found and continues. */
  readonly resumed: boolean;
  readonly store: ServerStore;
  run(): Promise<RunResult>;
  close(): Promise<void>;
}

export async function startFleetServer(options: FleetServerOptions): Promise<FleetServer> {
  if (options.allowList !== undefined && options.tls === undefined) {
    throw new Error('an allow-list needs TLS: node keys are read from client certificates');
  }
  const store = new ServerStore(options.database, options.sealer);
  const run = store.openRun(options.job, options.newRun);
  const checkpoints = store.checkpointStore(run.id);
  if (run.resumed) {
    // A checkpoint that cannot be opened (tampered, wrong key, unsealed in sealed mode) stops
    // the server here, before it listens, rather than once nodes have joined.
    try {
      await checkpoints.loadLatest();
    } catch (error) {
      store.close();
      throw error;
    }
  }
  const emit = options.onEvent ?? (() => undefined);
  const fleet = new Fleet({
    runId: run.id,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    livenessTimeoutMs: options.livenessTimeoutMs,
    pollTimeoutMs: options.pollTimeoutMs,
    onNodeEvent: (event) => {
      if (event.type === 'registered') store.recordNode(event.node, event.key);
      emit(event);
    },
  });
  const allowList =
    options.allowList === undefined
      ? undefined
      : new AllowList(options.allowList, (revoked) => fleet.revokeWhere((key) => revoked.has(key)));
  const listening = await listen({
    host: options.host,
    port: options.port,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    maxMessageBytes: options.maxMessageBytes,
    routes: (router) =>
      router.service(
        pb.FleetService,
        fleetService({
          fleet,
          authenticator: authenticatorFor(options.tls, allowList),
          rateLimiter: new RateLimiter(options.rateLimit),
          ...(options.onInternalError === undefined
            ? {}
            : { onInternalError: options.onInternalError }),
        }),
      ),
  });

  /** Resolves once `minNodes` nodes are live. */
  const enoughNodes = async () => {
    let reported = -1;
    while (fleet.available().length < options.minNodes) {
      const registered = fleet.available().length;
      if (registered !== reported) {
        emit({ type: 'waiting', registered, needed: options.minNodes });
        reported = registered;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  return {
    url: listening.url,
    runId: run.id,
    resumed: run.resumed,
    store,
    async run() {
      await enoughNodes();
      const available = (): readonly ClientProxy[] => fleet.available();
      const result = await runServer({
        strategy: options.strategy,
        clients: available,
        numRounds: options.numRounds,
        ...(options.roundTimeoutMs === undefined ? {} : { roundTimeoutMs: options.roundTimeoutMs }),
        ...(options.secAggStageTimeoutMs === undefined
          ? {}
          : { secAggStageTimeoutMs: options.secAggStageTimeoutMs }),
        ...(options.stopWhen === undefined ? {} : { stopWhen: options.stopWhen }),
        checkpoint: checkpoints,
        onEvent: (event) => {
          if (event.type === 'round-started') fleet.round = event.round;
          emit(event);
        },
      });
      store.finishRun(run.id);
      fleet.finish();
      return result;
    },
    async close() {
      fleet.close();
      await listening.close();
      store.close();
    },
  };
}

/**
 * The allow-list when there is one; with attested TLS, a connection whose peer failed its
 * checks is refused first whatever the authenticator.
 */
function authenticatorFor(tls: ServerTls | undefined, allowList: AllowList | undefined) {
  const inner = allowList === undefined ? namedAuthenticator : allowListAuthenticator(allowList);
  return tls?.identifyPeer === undefined ? inner : refusingUnidentified(inner);
}
