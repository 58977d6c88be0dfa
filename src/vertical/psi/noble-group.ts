/**
 * The PSI group on @noble/curves: its hash_to_ristretto255 and its X25519, BigInt arithmetic, any
 * JavaScript engine. The reference the faster implementations are tested against; milliseconds
 * per multiplication, so too slow for large sets (docs/vertical.md).
 */
import { ristretto255_hasher, x25519 } from '@noble/curves/ed25519.js';
import { utf8 } from '../../crypto/bytes.js';
import {
  checkBatch,
  checkPeerPoints,
  ELEMENT_BYTES,
  PSI_DST,
  type PsiGroup,
  type Scalar,
} from './group.js';
import { squareModPrime } from './field25519.js';

export const nobleGroup: PsiGroup = {
  name: 'noble',

  async hashAndMultiply(ids, scalar, dst = PSI_DST) {
    checkBatch(undefined, scalar);
    const out = new Uint8Array(ids.length * ELEMENT_BYTES);
    ids.forEach((id, i) => {
      const encoding = ristretto255_hasher.hashToCurve(utf8(id), { DST: dst }).toBytes();
      out.set(x25519.scalarMult(scalar, squareModPrime(encoding)), i * ELEMENT_BYTES);
    });
    return out;
  },

  async multiply(points: Uint8Array, scalar: Scalar) {
    checkBatch(points, scalar);
    checkPeerPoints(points);
    const out = new Uint8Array(points.length);
    for (let at = 0; at < points.length; at += ELEMENT_BYTES) {
      out.set(x25519.scalarMult(scalar, points.subarray(at, at + ELEMENT_BYTES)), at);
    }
    return out;
  },
};
