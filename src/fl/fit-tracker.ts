/**
 * How the clients' fits of one round settle, for a secure aggregation that runs alongside them:
 * the key stages go on while clients train, and a client's masked vector is asked for only once
 * its own fit has succeeded (src/fl/secure-round.ts).
 */
import type { ClientProxy } from './client.js';

export interface Training {
  /** Settles when `client`'s fit has: true when it succeeded, false when it failed or timed out. */
  fitted(client: ClientProxy): Promise<boolean>;
  /** Settles when every fit of the round has settled: the fit phase is over. */
  readonly settled: Promise<void>;
}

export class FitTracker implements Training {
  readonly #fits = new Map<ClientProxy, { promise: Promise<boolean>; settle(ok: boolean): void }>();
  readonly settled: Promise<void>;
  #finish: () => void = () => undefined;

  constructor(clients: readonly ClientProxy[]) {
    for (const client of clients) {
      let settle: (ok: boolean) => void = () => undefined;
      const promise = new Promise<boolean>((resolve) => (settle = resolve));
      this.#fits.set(client, { promise, settle });
    }
    this.settled = new Promise<void>((resolve) => (this.#finish = resolve));
  }

  /** A client the round never asked to fit has no update: it counts as failed. */
  fitted(client: ClientProxy): Promise<boolean> {
    return this.#fits.get(client)?.promise ?? Promise.resolve(false);
  }

  /** Records how `client`'s fit ended; later calls for the same client change nothing. */
  settle(client: ClientProxy, ok: boolean): void {
    this.#fits.get(client)?.settle(ok);
  }

  /** Ends the fit phase: a client not yet settled counts as failed. */
  finish(): void {
    for (const { settle } of this.#fits.values()) settle(false);
    this.#finish();
  }
}
