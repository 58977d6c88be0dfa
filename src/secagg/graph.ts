/**
 * The SecAgg+ communication graph: who holds shares of whom and who shares pairwise masks.
 *
 * Clients are placed on a ring in random order and each is linked to the (shareNum - 1) / 2
 * nearest on each side: a symmetric (shareNum - 1)-regular graph (a Harary graph under a random
 * relabelling, as in Bell et al. 2020). With shareNum >= the number of clients the graph is
 * complete, which is SecAgg. The server draws a fresh graph every round.
 */
import { shuffle, systemRandom, type RandomSource } from '../crypto/random.js';

/** Each client's neighbours, itself included, in ascending order. */
export type NeighbourGraph = ReadonlyMap<number, readonly number[]>;

export function drawGraph(
  clients: readonly number[],
  shareNum: number,
  random: RandomSource = systemRandom,
): NeighbourGraph {
  const sorted = [...clients].sort((a, b) => a - b);
  if (shareNum >= sorted.length) return new Map(sorted.map((id) => [id, sorted]));
  if (shareNum % 2 === 0)
    throw new RangeError(`shareNum must be odd for a ring graph, got ${shareNum}`);
  const ring = shuffle(sorted, random);
  const half = (shareNum - 1) / 2;
  const n = ring.length;
  return new Map(
    ring.map((id, position) => {
      const neighbours: number[] = [];
      for (let offset = -half; offset <= half; offset++) {
        neighbours.push(ring[(position + offset + n) % n] as number);
      }
      return [id, neighbours.sort((a, b) => a - b)];
    }),
  );
}
