/**
 * What the server loop reports while it runs, for progress bars and logs (the core itself prints
 * nothing). Events arrive in order: run-started, then per round round-started, fit-finished per
 * client, secagg-stage / client-dropped in a secure round, evaluate-finished per client, and
 * round-finished with the round's record. In a secure round the key stages run while clients
 * train, so their secagg-stage and client-dropped events interleave with fit-finished; stages
 * are still reported in protocol order, and ask-vectors / unmask come after the last fit.
 */
import type { Stage } from '../secagg/stages.js';
import type { RoundRecord } from './history.js';

export type ServerEvent =
  | {
      readonly type: 'run-started';
      /** The first round this run executes: 1, or the round after a checkpoint. */
      readonly firstRound: number;
      readonly numRounds: number;
    }
  | {
      readonly type: 'round-started';
      readonly round: number;
      /** Clients asked to fit. */
      readonly sampled: number;
      readonly secure: boolean;
    }
  | {
      readonly type: 'fit-finished' | 'evaluate-finished';
      readonly round: number;
      readonly client: string;
      /** Why the client failed; absent on success. */
      readonly error?: string;
    }
  | {
      readonly type: 'secagg-stage';
      readonly round: number;
      readonly stage: Stage;
      /** Wall-clock milliseconds the stage took. */
      readonly ms: number;
      /** Clients still in the secure aggregation after the stage. */
      readonly active: number;
    }
  | {
      readonly type: 'client-dropped';
      readonly round: number;
      readonly client: string;
      readonly stage: Stage;
      readonly reason: string;
    }
  | { readonly type: 'round-finished'; readonly round: number; readonly record: RoundRecord };
