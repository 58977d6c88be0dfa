/**
 * The PSI group on @noble/curves: BigInt field arithmetic, constant-time ladder, any JavaScript
 * engine. The reference the faster implementations are tested against; about 2 ms per
 * multiplication on the benchmark machine, so too slow for large sets (docs/vertical.md).
 */
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { utf8 } from '../../crypto/bytes.js';
import {
  checkBatch,
  ELEMENT_BYTES,
  InvalidPointError,
  PSI_DST,
  type PsiGroup,
  type Scalar,
} from './group.js';

const Point = ristretto255.Point;

export const nobleGroup: PsiGroup = {
  name: 'noble',

  async hashAndMultiply(ids, scalar, dst = PSI_DST) {
    checkBatch(undefined, scalar);
    const k = bytesToNumberLE(scalar);
    const out = new Uint8Array(ids.length * ELEMENT_BYTES);
    ids.forEach((id, i) => {
      const point = ristretto255_hasher.hashToCurve(utf8(id), { DST: dst });
      out.set(point.multiply(k).toBytes(), i * ELEMENT_BYTES);
    });
    return out;
  },

  async multiply(points: Uint8Array, scalar: Scalar) {
    checkBatch(points, scalar);
    const k = bytesToNumberLE(scalar);
    const out = new Uint8Array(points.length);
    for (let i = 0; i < points.length / ELEMENT_BYTES; i++) {
      const bytes = points.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
      let point: InstanceType<typeof Point>;
      try {
        point = Point.fromBytes(bytes);
      } catch {
        throw new InvalidPointError(i, 'not a canonical ristretto255 encoding');
      }
      if (point.is0()) throw new InvalidPointError(i, 'the identity element');
      out.set(point.multiply(k).toBytes(), i * ELEMENT_BYTES);
    }
    return out;
  },
};
