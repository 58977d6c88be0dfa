/**
 * The two PSI messages. Both carry only u-coordinates of blinded group elements (group.ts),
 * concatenated, ELEMENT_BYTES each: no id, hash of an id or count of anything else ever leaves a
 * party.
 */

/** The sender's ids, hashed to the group and blinded by its secret scalar, in a random order. */
export interface BlindedSet {
  kind: 'blinded';
  points: Uint8Array;
}

/** The receiver's own blinded set, multiplied by the sender's scalar, in the order it was sent. */
export interface DoubleBlindedSet {
  kind: 'double-blinded';
  points: Uint8Array;
}

export type PsiMessage = BlindedSet | DoubleBlindedSet;
