/**
 * Both PSI parties in one process, exchanging the real encoded messages: the simulation's
 * transport. A network transport replaces this file and nothing else.
 *
 * The parties take turns: each step (a party's start, or its answer to a message) runs to its end
 * before the next begins, so each step has all of the group's threads to itself and its time is
 * that party's alone.
 */
import type { RandomSource } from '../../crypto/random.js';
import { decodePsiMessage, encodePsiMessage } from './codec.js';
import type { PsiGroup } from './group.js';
import type { PsiMessage } from './messages.js';
import { PsiParty, type PsiResult } from './party.js';

export interface PsiSide {
  name: string;
  ids: readonly string[];
  random?: RandomSource;
}

export interface SimulatePsiOptions {
  /** The group arithmetic both parties use; PsiParty's default unless given. */
  group?: PsiGroup;
}

export interface SimulatedPsi {
  results: [PsiResult, PsiResult];
  /** Encoded bytes each party sent, [first to second, second to first]. */
  bytes: [number, number];
  /** Milliseconds of wall time each party spent computing, [first, second]. */
  milliseconds: [number, number];
}

/** Runs the protocol to the end. */
export async function simulatePsi(
  first: PsiSide,
  second: PsiSide,
  options: SimulatePsiOptions = {},
): Promise<SimulatedPsi> {
  const sides = [first, second] as const;
  const parties = sides.map(
    (side, i) =>
      new PsiParty(side.ids, {
        party: side.name,
        peer: (sides[1 - i] as PsiSide).name,
        ...(side.random === undefined ? {} : { random: side.random }),
        ...(options.group === undefined ? {} : { group: options.group }),
      }),
  ) as [PsiParty, PsiParty];
  const bytes: [number, number] = [0, 0];
  const milliseconds: [number, number] = [0, 0];
  const timed = async <T>(i: 0 | 1, step: () => T | Promise<T>): Promise<T> => {
    const begin = performance.now();
    try {
      return await step();
    } finally {
      milliseconds[i] += performance.now() - begin;
    }
  };
  // Every message goes through the codec, as it would on a wire; replies are delivered in turn.
  const deliver = async (from: 0 | 1, message: PsiMessage): Promise<void> => {
    const encoded = await timed(from, () => encodePsiMessage(message));
    bytes[from] += encoded.length;
    const to = (1 - from) as 0 | 1;
    const receiver = parties[to];
    const replies = await timed(to, () =>
      receiver.receive(decodePsiMessage(encoded, receiver.party, parties[from].party)),
    );
    for (const reply of replies) await deliver(to, reply);
  };
  const firstBlinded = await timed(0, () => parties[0].start());
  const secondBlinded = await timed(1, () => parties[1].start());
  await deliver(0, firstBlinded);
  await deliver(1, secondBlinded);
  // Reading a result merges the two sorted sets: that party's work too.
  const results: PsiResult[] = [];
  for (const i of [0, 1] as const) {
    const result = await timed(i, () => parties[i].result);
    if (result === undefined) throw new Error(`${parties[i].party}: PSI did not finish`);
    results.push(result);
  }
  return { results: results as [PsiResult, PsiResult], bytes, milliseconds };
}
