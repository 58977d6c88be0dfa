/**
 * Both PSI parties in one process, exchanging the real encoded messages: the simulation's
 * transport. A network transport replaces this file and nothing else.
 */
import type { RandomSource } from '../../crypto/random.js';
import { decodePsiMessage, encodePsiMessage } from './codec.js';
import type { PsiMessage } from './messages.js';
import { PsiParty, type PsiResult } from './party.js';

export interface PsiSide {
  name: string;
  ids: readonly string[];
  random?: RandomSource;
}

export interface SimulatedPsi {
  results: [PsiResult, PsiResult];
  /** Encoded bytes each party sent, [first to second, second to first]. */
  bytes: [number, number];
  /** Milliseconds each party spent computing, [first, second], by `clock`. */
  milliseconds: [number, number];
}

/**
 * Runs the protocol to the end. `clock` (milliseconds) times each party's work; the default is
 * wall time, and a benchmark on a shared machine passes a CPU-time clock instead.
 */
export function simulatePsi(
  first: PsiSide,
  second: PsiSide,
  clock: () => number = () => performance.now(),
): SimulatedPsi {
  const sides = [first, second] as const;
  const parties = sides.map(
    (side, i) =>
      new PsiParty(side.ids, {
        party: side.name,
        peer: (sides[1 - i] as PsiSide).name,
        ...(side.random === undefined ? {} : { random: side.random }),
      }),
  ) as [PsiParty, PsiParty];
  const bytes: [number, number] = [0, 0];
  const milliseconds: [number, number] = [0, 0];
  const timed = <T>(i: 0 | 1, step: () => T): T => {
    const begin = clock();
    try {
      return step();
    } finally {
      milliseconds[i] += clock() - begin;
    }
  };
  // Every message goes through the codec, as it would on a wire; replies are delivered in turn.
  const deliver = (from: 0 | 1, message: PsiMessage): void => {
    const encoded = timed(from, () => encodePsiMessage(message));
    bytes[from] += encoded.length;
    const to = (1 - from) as 0 | 1;
    const receiver = parties[to];
    const replies = timed(to, () =>
      receiver.receive(decodePsiMessage(encoded, receiver.party, parties[from].party)),
    );
    for (const reply of replies) deliver(to, reply);
  };
  const firstBlinded = timed(0, () => parties[0].start());
  const secondBlinded = timed(1, () => parties[1].start());
  deliver(0, firstBlinded);
  deliver(1, secondBlinded);
  const results = parties.map((party) => {
    const result = party.result;
    if (result === undefined) throw new Error(`${party.party}: PSI did not finish`);
    return result;
  }) as [PsiResult, PsiResult];
  return { results, bytes, milliseconds };
}
