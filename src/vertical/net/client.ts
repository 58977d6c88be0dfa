/**
 * The passive party's connection to the active party: a Connect-ES client over its own HTTP/2
 * connection, secured by the channel, with one rule for failures. A call that cannot reach the
 * active party (connection refused or reset) is repeated with backoff until its deadline; every
 * call is safe to repeat (see active-session.ts), and the transport reconnects by itself. What
 * the caller sees is a vertical error naming the active party:
 * - PeerGoneError: unreachable, or its connection lost, until the deadline;
 * - PeerTimeoutError: no answer within the deadline;
 * - PeerError: the active party refused the call (its message says why);
 * - the attestation error itself when the active party's evidence failed (never retried).
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import {
  attestedTlsClientOptions,
  verifyTlsPeer,
  type AttestedTlsOptions,
} from '../../confidential/ratls/index.js';
import { fleetTransport } from '../../deploy/client/transport.js';
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
  /** The last handshake's attestation failure, if the active party's evidence was refused. */
  private refusal: Error | undefined;

  constructor(url: string, channel: Channel, options: ClientOptions) {
    this.name = options.name ?? 'passive';
    this.peer = options.peer ?? `active at ${url}`;
    this.maxBackoffMs = options.maxBackoffMs ?? 2000;
    this.attested = channel.kind === 'attested';
    const transport =
      channel.kind === 'attested'
        ? this.attestedTransport(url, channel.tls, options.maxMessageBytes)
        : fleetTransport(
            url,
            options.maxMessageBytes,
            channel.kind === 'mtls'
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
        if (this.refusal !== undefined) {
          // Fail closed, never retried.
          const { name, message } = this.refusal;
          throw new PeerError(
            this.name,
            this.peer,
            `its attestation was refused: ${name}: ${message}`,
          );
        }
        const failure = ConnectError.from(error);
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
        if (this.attested && method === 'open') {
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

  /**
   * gRPC over a TLS socket made here, so the active party's RA-TLS certificate is checked on
   * 'secureConnect', before the HTTP/2 session (set up after this listener) reports itself
   * connected and the client writes a request: a refused peer never receives a request.
   */
  private attestedTransport(url: string, options: AttestedTlsOptions, maxMessageBytes: number) {
    const { hostname, port } = new URL(url);
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    return createGrpcTransport({
      baseUrl: url,
      readMaxBytes: maxMessageBytes,
      writeMaxBytes: maxMessageBytes,
      acceptCompression: [],
      nodeOptions: {
        createConnection: () => {
          const socket = tls.connect({
            ...attestedTlsClientOptions(options),
            host,
            port: Number(port),
            ALPNProtocols: ['h2'],
            ...(isIP(host) === 0 && { servername: host }),
          });
          socket.once('secureConnect', () => {
            try {
              verifyTlsPeer(socket, options);
            } catch (error) {
              this.refusal = error as Error;
              // Not destroyed here: the HTTP/2 session sets itself up on this same event, right
              // after this listener, and aborts the process on a destroyed socket (Node 20). The
              // tick queued now runs before the session announces 'connect', so no request is
              // ever written.
              process.nextTick(() => socket.destroy());
            }
          });
          return socket;
        },
      },
    });
  }
}
