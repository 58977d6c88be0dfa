/**
 * How the two parties' connection is secured. TLS is the default: the CLI refuses to run without
 * it unless told `--insecure`.
 * - mtls: the deployment's PKI (`sepal certs`): the active party presents the server certificate,
 *   the passive party a node certificate; both chain to the same CA. The active party may also
 *   require the passive party's key to be on an allow-list.
 * - attested: RA-TLS (confidential/ratls). Each side presents a self-signed certificate carrying
 *   evidence for its key and verifies the other's against its policy during the handshake; a
 *   connection whose peer fails is closed before any request is read or sent.
 * - insecure: plaintext HTTP/2 (h2c), for a trusted network or a test. The session id is then
 *   the only thing binding the calls to the party that opened the session.
 */
import type { AttestedTlsOptions } from '../../confidential/ratls/index.js';

export interface MutualTls {
  kind: 'mtls';
  /** PEM: the CA both certificates chain to. */
  ca: string | Buffer;
  /** PEM: this party's certificate and key. */
  cert: string | Buffer;
  key: string | Buffer;
  /** Active party only: "<name> <key>" lines; the passive party's key must be on it. */
  allowList?: string;
}

export interface AttestedChannel {
  kind: 'attested';
  tls: AttestedTlsOptions;
}

export type Channel = MutualTls | AttestedChannel | { kind: 'insecure' };
