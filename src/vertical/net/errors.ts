/**
 * Errors of the two-process run, on top of vertical/errors.ts: a peer that is gone (its
 * connection closed, or it cannot be reached), and a run that ended before a call arrived.
 */
import { PeerError } from '../errors.js';

/** `peer` disappeared: unreachable, or its connection closed and it did not come back in time. */
export class PeerGoneError extends PeerError {
  override name = 'PeerGoneError';
}

/** The two parties disagree on the run's plan; `field` names what differs. */
export class PlanMismatchError extends PeerError {
  override name = 'PlanMismatchError';
  constructor(
    party: string,
    peer: string,
    readonly field: string,
    ours: string | number,
    theirs: string | number,
  ) {
    super(party, peer, `plan: ${field} is ${theirs} at the peer, ${ours} here`);
  }
}
