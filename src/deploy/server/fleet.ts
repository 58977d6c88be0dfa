/**
 * The nodes of a run as the server sees them: one live session per node, the ClientProxies the
 * server loop samples from, and liveness. A node that registers again replaces its session (its
 * process restarted and lost its state, so the old session's tasks can never be answered).
 * A session silent for longer than `livenessTimeoutMs` (no request, no parked poll) dies, and so
 * do its pending calls: the loop, or the SecAgg machine, counts the node as dropped.
 */
import type { ClientProxy } from '../../fl/client.js';
import { NodeRefusedError, SessionGoneError } from '../errors.js';
import { remoteProxy } from './remote-proxy.js';
import { Session } from './session.js';

export interface FleetOptions {
  readonly runId: string;
  /** How often a node working on a task must send Heartbeat. */
  readonly heartbeatIntervalMs: number;
  /** Silence after which a node is dead; a few heartbeat intervals. */
  readonly livenessTimeoutMs: number;
  /** Longest wait of one PullTask. */
  readonly pollTimeoutMs: number;
  readonly onNodeEvent?: (event: NodeEvent) => void;
  readonly clock?: () => number;
}

export type NodeEvent =
  | { readonly type: 'registered'; readonly node: string; readonly key: string | undefined }
  | { readonly type: 'dead'; readonly node: string; readonly reason: string };

interface Member {
  readonly session: Session;
  readonly proxy: ClientProxy;
}

export class Fleet {
  readonly options: FleetOptions;
  /** The round in progress, kept by the server from the loop's events. */
  round = 0;
  /** Set when the run is over: polls answer `run_finished` so that nodes stop. */
  #finished = false;
  readonly #byNode = new Map<string, Member>();
  readonly #bySession = new Map<string, Member>();
  readonly #sweeper: ReturnType<typeof setInterval>;

  constructor(options: FleetOptions) {
    this.options = options;
    this.#sweeper = setInterval(() => this.sweep(), Math.max(50, options.heartbeatIntervalMs / 2));
    this.#sweeper.unref();
  }

  /** Starts a session for `node`, ending any session it had. */
  register(node: string, key: string | undefined): Session {
    this.#end(node, 'the node registered again');
    const session = new Session(node, key, this.options.runId, this.options.clock);
    const member = { session, proxy: remoteProxy(session, () => this.round) };
    this.#byNode.set(node, member);
    this.#bySession.set(session.id, member);
    this.options.onNodeEvent?.({ type: 'registered', node, key });
    return session;
  }

  /** The live session `id`, used by the caller of key `key` (undefined without TLS). */
  session(id: string, key: string | undefined): Session {
    const member = this.#bySession.get(id);
    if (member === undefined || member.session.dead) {
      throw new SessionGoneError(`session ${id} is unknown or ended: register again`);
    }
    if (member.session.key !== key) {
      throw new NodeRefusedError(`session ${id} belongs to node ${member.session.node}`);
    }
    return member.session;
  }

  /** The live nodes, in registration order: what the server loop samples from. */
  available(): readonly ClientProxy[] {
    return [...this.#byNode.values()].filter((m) => !m.session.dead).map((m) => m.proxy);
  }

  /** Ends the session of every node whose key is no longer allowed. */
  revokeWhere(revoked: (key: string) => boolean): void {
    for (const [node, { session }] of this.#byNode) {
      if (session.key !== undefined && revoked(session.key)) this.#end(node, 'its key was revoked');
    }
  }

  /** Kills the sessions that have been silent past the liveness timeout. */
  sweep(): void {
    for (const [node, { session }] of this.#byNode) {
      const silent = session.silentForMs();
      if (silent > this.options.livenessTimeoutMs) {
        this.#end(node, `no heartbeat for ${Math.round(silent)} ms`);
      }
    }
  }

  #end(node: string, reason: string): void {
    const member = this.#byNode.get(node);
    if (member === undefined) return;
    this.#byNode.delete(node);
    this.#bySession.delete(member.session.id);
    member.session.kill(reason);
    this.options.onNodeEvent?.({ type: 'dead', node, reason });
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Tells every node, now or at its next poll, that the run is over. */
  finish(): void {
    this.#finished = true;
    for (const { session } of this.#byNode.values()) session.wake();
  }

  /** Ends every session (server shutdown). */
  close(): void {
    clearInterval(this.#sweeper);
    for (const node of [...this.#byNode.keys()]) this.#end(node, 'the server is shutting down');
  }
}
