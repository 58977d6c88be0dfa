/**
 * The passive party's connection to the active party: a Connect-ES client over its own HTTP/2
 * connection, secured by the channel, with one rule for failures. A call that cannot reach the
 * active party (connection refused or reset) is repeated with backoff until its deadline; every
 * call is safe to repeat (see active-session.ts), and the transport reconnects by itself. What
 * the caller sees is a vertical error naming the active party:
 * - PeerGoneError: unreachable, or its connection lost, until the deadline;
 * - PeerTimeoutError: no answer within the deadline;
 * - PeerError: the active party refused the call (its message says why);
 * - PeerError "its attestation was refused" when the active party's evidence or endorsement
 *   failed (deploy/attested.ts; never retried).
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { attestedNodeTls } from '../../deploy/attested.js';
import { fleetTransport } from '../../deploy/client/transport.js';
import { PeerAttestationError } from '../../deploy/errors.js';
import * as pb from '../../gen/sepal/vertical/v1/vertical_pb.js';
import { PeerError, PeerTimeoutError } from '../errors.js';
import type { Channel } from './channel.js';
import { PeerGoneError } from './errors.js';

/**
 * How a lost connection surfaces in connect-node: refused (UNAVAILABLE), reset (ABORTED) or cut
 * under a call (CANCELED, as this client never cancels a call itself).
 */
const CONNECTION_LOST: ReadonlySet<Code> = new Set([Code.Unavailable, Code.Aborted, Code.Canceled]);

export interface ClientOptions {
  /** This party's name in errors (default "passive"). */
  name?: string;
  /** The active party's name in errors (default "active at <url>"). */
  peer?: string;
  maxMessageBytes: number;
  /** Longest wait between two attempts of a call (default 2 s). */
  maxBackoffMs?: number;
}

export class ActiveClient {
  readonly name: string;
  readonly peer: string;
  private readonly client: Client<typeof pb.VerticalService>;
  private readonly maxBackoffMs: number;
  private readonly attested: boolean;

  constructor(url: string, channel: Channel, options: ClientOptions) {
    this.name = options.name ?? 'passive';
    this.peer = options.peer ?? `active at ${url}`;
    this.maxBackoffMs = options.maxBackoffMs ?? 2000;
    this.attested = channel.kind === 'attested';
    const transport = fleetTransport(
      url,
      options.maxMessageBytes,
      channel.kind === 'attested'
        ? attestedNodeTls(channel.side)
        : channel.kind === 'mtls'
          ? { ca: String(channel.ca), cert: String(channel.cert), key: String(channel.key) }
          : undefined,
    );
    this.client = createClient(pb.VerticalService, transport);
  }

  /**
   * Calls `method` until it answers, fails for a reason other than reachability, or `timeoutMs`
   * has passed; `what` names the awaited answer in errors ("gradient for step 3").
   */
  async call<M extends keyof Client<typeof pb.VerticalService>>(
    method: M,
    request: Parameters<Client<typeof pb.VerticalService>[M]>[0],
    what: string,
    timeoutMs: number,
  ): Promise<Awaited<ReturnType<Client<typeof pb.VerticalService>[M]>>> {
    const deadline = performance.now() + timeoutMs;
    let backoff = 100;
    let attempts = 0;
    for (;;) {
      attempts++;
      const remaining = Math.max(1, Math.round(deadline - performance.now()));
      try {
        const call = this.client[method] as (
          input: typeof request,
          options: { timeoutMs: number },
        ) => Promise<Awaited<ReturnType<Client<typeof pb.VerticalService>[M]>>>;
        return await call.call(this.client, request, { timeoutMs: remaining });
      } catch (error) {
        const failure = ConnectError.from(error);
        const refusal = attestationFailure(error);
        if (refusal !== undefined) {
          // The active party's evidence or endorsement failed: fail closed, never retried.
          throw new PeerError(
            this.name,
            this.peer,
            `its attestation was refused: ${refusal.message}`,
          );
        }
        if (failure.code === Code.DeadlineExceeded) {
          throw new PeerTimeoutError(this.name, this.peer, what, timeoutMs);
        }
        if (!CONNECTION_LOST.has(failure.code)) {
          throw new PeerError(
            this.name,
            this.peer,
            `refused the call for ${what}: ${failure.rawMessage}`,
          );
        }
        if (this.attested && method === 'open' && failure.code !== Code.Unavailable) {
          // A peer that refuses this party's evidence closes the connection after the handshake.
          throw new PeerError(
            this.name,
            this.peer,
            `closed the connection (${failure.rawMessage}): it may have refused this party's evidence (see its log)`,
          );
        }
        const wait = Math.min(backoff, this.maxBackoffMs, deadline - performance.now());
        if (wait <= 0) {
          throw new PeerGoneError(
            this.name,
            this.peer,
            `unreachable or gone while awaiting ${what} (${attempts} attempts in ${timeoutMs} ms; last: ${failure.rawMessage})`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
        backoff *= 2;
      }
    }
  }
}

/** The PeerAttestationError somewhere in the cause chain of a failed call, if any. */
function attestationFailure(error: unknown): PeerAttestationError | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof PeerAttestationError) return cause;
  }
  return undefined;
}
