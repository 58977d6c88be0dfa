/**
 * The passive party's connection to the active party: a Connect-ES client over its own HTTP/2
 * connection, secured by the channel, with one rule for failures. A call that cannot reach the
 * active party (connection refused or reset) is repeated with backoff until its deadline; every
 * call is safe to repeat (see active-session.ts), and the transport reconnects by itself. What
 * the caller sees is a vertical error naming the active party:
 * - PeerGoneError: unreachable until the deadline;
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
  /** The last handshake's attestation failure, if the active party's evidence was refused. */
  private refusal: Error | undefined;

  constructor(url: string, channel: Channel, options: ClientOptions) {
    this.name = options.name ?? 'passive';
    this.peer = options.peer ?? `active at ${url}`;
    this.maxBackoffMs = options.maxBackoffMs ?? 2000;
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
        if (this.refusal !== undefined) throw this.refusal; // fail closed, never retried
        const failure = ConnectError.from(error);
        if (failure.code === Code.DeadlineExceeded) {
          throw new PeerTimeoutError(this.name, this.peer, what, timeoutMs);
        }
        if (failure.code !== Code.Unavailable) {
          throw new PeerError(this.name, this.peer, `refused (${what}): ${failure.rawMessage}`);
        }
        const wait = Math.min(backoff, this.maxBackoffMs, deadline - performance.now());
        if (wait <= 0) {
          throw new PeerGoneError(
            this.name,
            this.peer,
            `unreachable while awaiting ${what} (${attempts} attempts in ${timeoutMs} ms): ${failure.rawMessage}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
        backoff *= 2;
      }
    }
  }

  /**
   * gRPC over a TLS socket made here, so the active party's RA-TLS certificate is checked on
   * 'secureConnect' before the HTTP/2 session (registered after this listener) sends its preface:
   * a refused peer never receives a byte of application data.
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
              socket.destroy(error as Error);
            }
          });
          return socket;
        },
      },
    });
  }
}
