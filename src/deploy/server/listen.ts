/**
 * The fleet's one port: HTTP/2 serving gRPC, gRPC-Web and the Connect protocol (Connect-ES's
 * node adapter), over TLS when certificates are given. With TLS the server also speaks HTTP/1.1
 * (ALPN), so gRPC-Web and Connect work from HTTP/1.1 clients too; without TLS it is HTTP/2 only
 * (h2c with prior knowledge, as gRPC clients do).
 *
 * TLS requires a client certificate from the configured CA (a certificate from any other CA
 * fails the handshake before a byte of HTTP is read); which certificate key is which node is the
 * authenticator's business (auth.ts).
 */
import { createContextValues, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import * as http2 from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import {
  assignPeerIdentity,
  contextWithIdentity,
  peerIdentity,
  type PeerIdentity,
} from './auth.js';

export interface ServerTls extends SecureContextOptions {
  /** CA certificates (PEM) that client certificates must chain to. */
  readonly ca: string | Buffer | (string | Buffer)[];
  /** Extra checks of a connection after the handshake (an attestation verifier): throw to refuse. */
  readonly verifyPeer?: (socket: TLSSocket) => void;
  /**
   * Attested TLS (deploy/attested.ts): peers present self-signed RA-TLS certificates, so
   * OpenSSL's chain check is off and this decides each connection's identity right after the
   * handshake, before any request on it is read. An identity that is an error is refused at
   * every request with that error (the peer learns why), and the connection is closed soon after.
   */
  readonly identifyPeer?: (socket: TLSSocket) => PeerIdentity;
}

/** How long a connection whose peer was refused stays open to tell it why. */
const REFUSED_CONNECTION_MS = 5000;

export interface ListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls?: ServerTls;
  readonly routes: (router: ConnectRouter) => void;
  /** Largest request / response message in bytes; larger ones get RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
}

export interface Listening {
  /** http(s)://host:port */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The connection's socket. For HTTP/2, `req.socket` is a new proxy per stream, so the session's
 * socket is what identifies the connection.
 */
const connectionOf = (req: http2.Http2ServerRequest | IncomingMessage): TLSSocket =>
  ('stream' in req ? req.stream.session?.socket : req.socket) as TLSSocket;

export function listen(options: ListenOptions): Promise<Listening> {
  const handler = connectNodeAdapter({
    routes: options.routes,
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    // Parameters and masked vectors are dense floats and uniform words: compressing them costs
    // CPU and saves nothing.
    acceptCompression: [],
    contextValues: (req) =>
      contextWithIdentity(createContextValues(), peerIdentity(connectionOf(req))),
  });
  const { tls } = options;
  let server: http2.Http2Server | http2.Http2SecureServer;
  if (tls === undefined) {
    server = http2.createServer(handler);
  } else {
    const { verifyPeer, identifyPeer, ...context } = tls;
    server = http2.createSecureServer(
      {
        ...context,
        minVersion: 'TLSv1.3',
        requestCert: true,
        rejectUnauthorized: identifyPeer === undefined,
        allowHTTP1: true,
      },
      handler,
    );
    if (identifyPeer !== undefined) {
      // Runs in the same turn as the handshake's completion: no request is read before it.
      server.on('secureConnection', (socket: TLSSocket) => {
        let identity: PeerIdentity;
        try {
          identity = identifyPeer(socket);
        } catch (error) {
          identity = { error: error as Error };
        }
        assignPeerIdentity(socket, identity);
        if (identity === undefined || 'error' in identity) {
          setTimeout(() => socket.destroy(), REFUSED_CONNECTION_MS).unref();
        }
      });
    }
    if (verifyPeer !== undefined) {
      server.on('secureConnection', (socket: TLSSocket) => {
        try {
          verifyPeer(socket);
        } catch {
          socket.destroy();
        }
      });
    }
  }
  return listenHttp2(server, { host: options.host, port: options.port, secure: tls !== undefined });
}

export interface Http2ListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Whether the URL is https. */
  readonly secure: boolean;
  /**
   * How long close() lets calls under way finish before it cuts their connections; 0 (the
   * default) cuts them at once.
   */
  readonly graceMs?: number;
}

/**
 * Starts an HTTP/2 server listening and resolves with its URL once it does. close() stops
 * accepting, ends open sessions (gracefully for up to `graceMs`) and resolves when the server
 * has closed.
 */
export function listenHttp2(
  server: http2.Http2Server | http2.Http2SecureServer,
  options: Http2ListenOptions,
): Promise<Listening> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const graceMs = options.graceMs ?? 0;
  const cutAll = () => {
    for (const session of sessions) session.destroy();
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      resolve({
        url: `${options.secure ? 'https' : 'http'}://${host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            let cut: ReturnType<typeof setTimeout> | undefined;
            if (graceMs === 0) cutAll();
            else {
              for (const session of sessions) session.close();
              cut = setTimeout(cutAll, graceMs);
            }
            server.close(() => {
              clearTimeout(cut);
              done();
            });
          }),
      });
    });
  });
}
