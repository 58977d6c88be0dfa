// Attested TLS over node:tls. Each side presents its RA-TLS certificate and verifies the peer's
// during the handshake, before any application data is read or written:
// - OpenSSL's own chain check is switched off (rejectUnauthorized: false), because RA-TLS
//   certificates are self-signed: trust comes from the evidence, not from a CA;
// - the server requests a client certificate and verifies it in 'secureConnection'; the client
//   verifies the server's in 'secureConnect'. On failure the socket is destroyed at once, and
//   the application never sees it: it only receives sockets whose peer passed.
// TLS 1.3 only; a peer that presents no certificate is refused like one with bad evidence.
import * as tls from 'node:tls';
import type { RaTlsIdentity } from './certificate.js';
import { RaTlsCertificateError } from './errors.js';
import {
  type RaTlsVerification,
  type RaTlsVerifyOptions,
  verifyRaTlsCertificate,
} from './verify.js';

export interface AttestedTlsOptions extends Omit<RaTlsVerifyOptions, 'at'> {
  /** This side's key and RA-TLS certificate. */
  readonly identity: RaTlsIdentity;
}

/**
 * The key and certificate as node:tls takes them. It takes private keys only as PEM, which
 * KeyObject exports as an immutable string: it cannot be erased and lives until garbage
 * collection. The key is ephemeral (made at start-up, never written), which limits the exposure.
 */
const credentials = (identity: RaTlsIdentity) => ({
  key: identity.privateKey.export({ format: 'pem', type: 'pkcs8' }),
  cert: identity.certificatePem,
});

export function attestedTlsServerOptions(options: AttestedTlsOptions): tls.TlsOptions {
  return {
    ...credentials(options.identity),
    minVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: false,
  };
}

export function attestedTlsClientOptions(options: AttestedTlsOptions): tls.ConnectionOptions {
  return {
    ...credentials(options.identity),
    minVersion: 'TLSv1.3',
    // Also skips the host name check: the peer is identified by its evidence, not a DNS name.
    rejectUnauthorized: false,
  };
}

/** Verifies the RA-TLS certificate the peer presented on an established TLS socket. */
export function verifyTlsPeer(
  socket: tls.TLSSocket,
  options: RaTlsVerifyOptions,
): RaTlsVerification {
  const certificate = socket.getPeerCertificate(true) as Partial<tls.DetailedPeerCertificate>;
  if (certificate.raw === undefined) {
    throw new RaTlsCertificateError('peer', 'the peer presented no certificate');
  }
  return verifyRaTlsCertificate(new Uint8Array(certificate.raw), options);
}

export interface AttestedServerEvents {
  /**
   * A connection whose client passed verification; only now may data be read or written. The
   * handler owns the socket from here, including its 'error' events.
   */
  onConnection(socket: tls.TLSSocket, peer: RaTlsVerification): void;
  /** A connection refused (the socket is already destroyed). */
  onRefused?(error: Error, socket: tls.TLSSocket): void;
}

export function createAttestedServer(
  options: AttestedTlsOptions,
  events: AttestedServerEvents,
): tls.Server {
  const server = tls.createServer(attestedTlsServerOptions(options));
  server.on('secureConnection', (socket) => {
    let peer: RaTlsVerification;
    try {
      peer = verifyTlsPeer(socket, options);
    } catch (error) {
      socket.destroy();
      events.onRefused?.(error as Error, socket);
      return;
    }
    events.onConnection(socket, peer);
  });
  return server;
}

export interface AttestedConnectOptions extends AttestedTlsOptions {
  readonly host: string;
  readonly port: number;
}

/** Connects and resolves once the server's evidence passed; rejects (socket destroyed) otherwise. */
export function connectAttested(
  options: AttestedConnectOptions,
): Promise<{ socket: tls.TLSSocket; peer: RaTlsVerification }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      ...attestedTlsClientOptions(options),
      host: options.host,
      port: options.port,
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      try {
        const peer = verifyTlsPeer(socket, options);
        socket.off('error', reject);
        resolve({ socket, peer });
      } catch (error) {
        socket.destroy();
        reject(error as Error);
      }
    });
  });
}
