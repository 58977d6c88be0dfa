/**
 * Exponential backoff with full jitter (each wait uniform in [0, min(max, initial·2^attempt)]):
 * after a server restart, a thousand nodes spread their reconnections instead of arriving in
 * one burst at every step.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Uniform in [0, 1); injected for tests. */
  readonly random?: () => number;
}

export class Backoff {
  #attempt = 0;

  constructor(readonly options: BackoffOptions) {}

  /** The next wait in ms; each call doubles the ceiling up to `maxMs`. */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** this.#attempt);
    this.#attempt += 1;
    return Math.floor((this.options.random ?? Math.random)() * ceiling);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
