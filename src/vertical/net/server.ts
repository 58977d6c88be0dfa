/**
 * The active party's endpoint: VerticalService over HTTP/2 (Connect-ES's node adapter, gRPC and
 * Connect protocols), with the channel's security. The transport identifies each connection's
 * peer (the key of its certificate) and tells the session when that peer's connections open and
 * close, which is how a vanished passive party is noticed within seconds.
 */
import { createContextKey, createContextValues, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import * as http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { attestedServerTls } from '../../deploy/attested.js';
import { AllowList } from '../../deploy/server/allow-list.js';
import { peerIdentity, type PeerIdentity } from '../../deploy/server/auth.js';
import { listenHttp2, type ServerTls } from '../../deploy/server/listen.js';
import * as pb from '../../gen/sepal/vertical/v1/vertical_pb.js';
import { Code, ConnectError } from '@connectrpc/connect';
import type { ActiveSession, Caller } from './active-session.js';
import type { Channel } from './channel.js';
import { verticalService } from './service.js';

export interface ServeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  channel: Channel;
  session: ActiveSession;
  /** Largest message either way; embeddings of an evaluation set are the largest. */
  maxMessageBytes: number;
  /** A connection refused before any request: failed attestation, or a key not allowed. */
  onRefused?: (error: Error) => void;
  onInternalError?: (error: unknown, method: string) => void;
}

export interface Serving {
  /** http(s)://host:port */
  url: string;
  close(): Promise<void>;
}

const callerKey = createContextKey<Caller | Error>(new Error('no caller'), {
  description: 'sepal vertical caller',
});

const CLOSE_GRACE_MS = 2000;

const ATTESTED = Symbol('sepal vertical attested identity');

const short = (key: string) => `${key.slice(0, 12)}…`;

export async function serveActive(options: ServeOptions): Promise<Serving> {
  const { channel, session } = options;
  const attestedTls =
    channel.kind === 'attested'
      ? attestedServerTls(channel.side, channel.onAttestation)
      : undefined;
  const allowList =
    channel.kind !== 'insecure' && channel.allowList !== undefined
      ? new AllowList(channel.allowList)
      : undefined;

  /** The key of the peer on `socket`: its client certificate's, or the one endorsing its RA-TLS. */
  const identityOn = (socket: TLSSocket): PeerIdentity => {
    if (attestedTls?.identifyPeer === undefined) return peerIdentity(socket);
    // Verified once, in the handshake's turn, and kept on the socket: the HTTP/2 session's
    // socket proxy (what requests see) forwards property reads to it.
    const identified = socket as TLSSocket & { [ATTESTED]?: PeerIdentity };
    // (A proxy forwards `get`, not `in`.)
    identified[ATTESTED] ??= attestedTls.identifyPeer(socket);
    return identified[ATTESTED];
  };

  /** Who is at the other end of `socket`, or why the connection is not acceptable. */
  const callerOn = (socket: TLSSocket): Caller | Error => {
    if (channel.kind === 'insecure') return { id: 'insecure', label: 'passive (no TLS)' };
    const identity = identityOn(socket);
    if (identity === undefined) return new Error('no TLS');
    if ('error' in identity) return identity.error;
    const suffix = channel.kind === 'attested' ? ', attested' : '';
    if (allowList === undefined) {
      return { id: `key:${identity.key}`, label: `passive (key ${short(identity.key)}${suffix})` };
    }
    const name = allowList.nodeOf(identity.key);
    if (name === undefined) {
      return new Error(`key ${identity.key} is not on the allow-list ${allowList.file}`);
    }
    return { id: `key:${identity.key}`, label: `${name}${suffix && ` (attested)`}` };
  };

  const seen = new WeakSet<TLSSocket>();
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(
        pb.VerticalService,
        verticalService(session, callerFrom, options.onInternalError),
      ),
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    acceptCompression: [], // dense float32 does not compress
    contextValues: (req) => {
      // For HTTP/2, req.socket is a proxy per stream; the session's socket is the connection.
      const socket = ('stream' in req ? req.stream.session?.socket : req.socket) as TLSSocket;
      const caller = callerOn(socket);
      if (!(caller instanceof Error) && !seen.has(socket)) {
        seen.add(socket);
        session.connectionOpened(caller);
        socket.once('close', () => session.connectionClosed(caller));
      }
      return createContextValues().set(callerKey, caller);
    },
  });

  let server: http2.Http2Server | http2.Http2SecureServer;
  if (channel.kind === 'insecure') {
    server = http2.createServer(handler);
  } else if (channel.kind === 'mtls') {
    server = http2.createSecureServer(
      {
        ca: channel.ca,
        cert: channel.cert,
        key: channel.key,
        minVersion: 'TLSv1.3',
        requestCert: true,
        rejectUnauthorized: true,
      },
      handler,
    );
  } else {
    const tls = attestedTls as ServerTls;
    // RA-TLS certificates are self-signed: OpenSSL accepts any client certificate here, and the
    // evidence and endorsement check below decides, in the handshake's own turn, before the
    // HTTP/2 session reads its first frame.
    server = http2.createSecureServer(
      {
        key: tls.key,
        cert: tls.cert,
        minVersion: 'TLSv1.3',
        requestCert: true,
        rejectUnauthorized: false,
      },
      handler,
    );
    server.on('secureConnection', (socket: TLSSocket) => {
      const identity = identityOn(socket);
      if (identity === undefined || 'error' in identity) {
        socket.destroy();
        options.onRefused?.(identity?.error ?? new Error('no identity'));
      }
    });
  }
  // Graceful close: calls under way (the Finish that ended the run) complete, then the
  // connections close; whatever is still open after CLOSE_GRACE_MS is cut.
  return listenHttp2(server, {
    host: options.host,
    port: options.port,
    secure: channel.kind !== 'insecure',
    graceMs: CLOSE_GRACE_MS,
  });

  function callerFrom(context: HandlerContext): Caller {
    const caller = context.values.get(callerKey);
    if (caller instanceof Error) {
      options.onRefused?.(caller);
      throw new ConnectError(caller.message, Code.PermissionDenied);
    }
    return caller;
  }
}
