/**
 * Typed errors of vertical federated learning. Each names the party that raised it and, when a
 * peer is at fault, that peer, so a user (or the driver) knows whose data or message to look at.
 */

/** A party's own input or configuration is unusable (duplicate ids, wrong shapes, NaN features). */
export class VerticalInputError extends Error {
  override name = 'VerticalInputError';
  constructor(
    readonly party: string,
    message: string,
  ) {
    super(`${party}: ${message}`);
  }
}

/**
 * A message from `peer` is malformed, out of order or carries unusable values. The receiving
 * `party` has refused it and kept its own state as it was before the message.
 */
export class PeerError extends Error {
  override name = 'PeerError';
  constructor(
    readonly party: string,
    readonly peer: string,
    message: string,
  ) {
    super(`${party}: peer ${peer}: ${message}`);
  }
}

/** `peer` did not answer within the driver's deadline; `party` gave up waiting. */
export class PeerTimeoutError extends PeerError {
  override name = 'PeerTimeoutError';
  constructor(party: string, peer: string, awaited: string, timeoutMs: number) {
    super(party, peer, `no ${awaited} within ${timeoutMs} ms`);
  }
}
