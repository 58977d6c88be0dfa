/**
 * How the two parties' connection is secured. TLS is the default: the CLI refuses to run without
 * it unless told `--insecure`.
 * - mtls: the deployment's PKI (`sepal certs`): the active party presents the server certificate,
 *   the passive party a node certificate; both chain to the same CA. The active party may also
 *   require the passive party's key to be on an allow-list.
 * - attested: the deployment's attested TLS (deploy/attested.ts), on top of the PKI: each side
 *   presents an RA-TLS certificate whose evidence commits to its key and which its CA-issued key
 *   endorses, and verifies the other's (evidence against its policy, endorsement against the CA)
 *   right after the handshake. A peer that fails never gets a request read or sent. The passive
 *   party is then identified by its endorsing key, as under mutual TLS.
 * - insecure: plaintext HTTP/2 (h2c), for a trusted network or a test. The session id is then
 *   the only thing binding the calls to the party that opened the session.
 */
import type { AttestationEvent, AttestedSide } from '../../deploy/attested.js';

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
  side: AttestedSide;
  /** Active party only: as for mutual TLS, naming endorsing keys. */
  allowList?: string;
  /** Active party only: each passive peer attested or refused. */
  onAttestation?: (event: AttestationEvent) => void;
}

export type Channel = MutualTls | AttestedChannel | { kind: 'insecure' };
