/**
 * Errors of the deployment, each tied to the status code a node receives for it (see the table in
 * proto/sepal/fleet/v1/fleet.proto). The service turns them into ConnectErrors in one place.
 */
import { Code } from '@connectrpc/connect';

abstract class FleetError extends Error {
  abstract readonly code: Code;
}

/** A field of a node's message is malformed; `field` names it as in the .proto. */
export class WireError extends FleetError {
  override name = 'WireError';
  readonly code = Code.InvalidArgument;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The caller presented no usable identity (no client certificate, no node name). */
export class UnauthenticatedError extends FleetError {
  override name = 'UnauthenticatedError';
  readonly code = Code.Unauthenticated;
}

/** The caller's key is not (or no longer) on the allow-list, or it uses another node's session. */
export class NodeRefusedError extends FleetError {
  override name = 'NodeRefusedError';
  readonly code = Code.PermissionDenied;
}

/** The session is unknown or dead: the node must register again. */
export class SessionGoneError extends FleetError {
  override name = 'SessionGoneError';
  readonly code = Code.NotFound;
}

/** A result for a task that is not outstanding: another run or round, answered, or cancelled. */
export class StaleResultError extends FleetError {
  override name = 'StaleResultError';
  readonly code = Code.FailedPrecondition;
}

/** A node sent more requests than its rate allows. */
export class RateLimitError extends FleetError {
  override name = 'RateLimitError';
  readonly code = Code.ResourceExhausted;
}

export const isFleetError = (error: unknown): error is FleetError => error instanceof FleetError;

/** A deployment file (certificate, key, allow-list, database) is missing or unusable. */
export class DeployFileError extends Error {
  override name = 'DeployFileError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/**
 * A peer's RA-TLS evidence or identity endorsement failed this side's checks (attested TLS):
 * the connection was closed before any RPC; retrying cannot fix it.
 */
export class PeerAttestationError extends Error {
  override name = 'PeerAttestationError';
  constructor(
    readonly peer: string,
    override readonly cause: Error,
  ) {
    super(`${peer} failed attestation: ${cause.message}`);
  }
}
