/**
 * What the two parties agree on before any data moves: the protocol version and the run's plan
 * (batch size, epochs, schedule seed, cut-layer width). Each party is configured on its own; the
 * active party compares the passive party's plan with its own at Open and refuses any difference,
 * naming the field, because a different schedule would pair the wrong rows without any error.
 */
import { create } from '@bufbuild/protobuf';
import * as pb from '../../gen/sepal/vertical/v1/vertical_pb.js';
import { PeerError } from '../errors.js';
import { PlanMismatchError } from './errors.js';

/**
 * 2 since the PSI sends X25519 u-coordinates (src/vertical/psi/group.ts); a version-1 peer sends
 * ristretto255 encodings, which would align nothing, so it is refused at Open instead.
 */
export const PROTOCOL_VERSION = 2;

export interface RunPlan {
  batchSize: number;
  epochs: number;
  scheduleSeed: string;
  embeddingWidth: number;
}

export const planMessage = (plan: RunPlan): pb.Plan => create(pb.PlanSchema, plan);

/** Throws PlanMismatchError (or PeerError for a missing plan or another protocol version). */
export function checkPlan(
  party: string,
  peer: string,
  ours: RunPlan,
  protocol: number,
  theirs: pb.Plan | undefined,
): void {
  if (protocol !== PROTOCOL_VERSION) {
    throw new PeerError(party, peer, `protocol ${protocol}, this party speaks ${PROTOCOL_VERSION}`);
  }
  if (theirs === undefined) throw new PeerError(party, peer, 'Open without a plan');
  for (const field of ['batchSize', 'epochs', 'scheduleSeed', 'embeddingWidth'] as const) {
    if (theirs[field] !== ours[field]) {
      throw new PlanMismatchError(party, peer, field, ours[field], theirs[field]);
    }
  }
}
