/**
 * Per-node request rate limits: a token bucket per node, refilled continuously. A node may burst
 * up to `burst` requests, then `perSecond` on average. Buckets of nodes idle long enough to be
 * full again are forgotten, so the map stays as small as the set of active nodes.
 */
import { RateLimitError } from '../errors.js';

export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  #sweptAt: number;

  constructor(
    readonly limit: RateLimit,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.#sweptAt = clock();
  }

  /** Spends one token of `node`'s bucket; throws RateLimitError when it is empty. */
  take(node: string): void {
    const now = this.clock();
    const bucket = this.#buckets.get(node) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(
      this.limit.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond,
    );
    bucket.at = now;
    if (bucket.tokens < 1) {
      throw new RateLimitError(
        `node ${node} exceeded ${this.limit.perSecond} requests/s (burst ${this.limit.burst})`,
      );
    }
    bucket.tokens -= 1;
    this.#buckets.set(node, bucket);
    this.#forgetFull(now);
  }

  #forgetFull(now: number): void {
    const refillMs = (1000 * this.limit.burst) / this.limit.perSecond;
    if (now - this.#sweptAt < refillMs) return;
    this.#sweptAt = now;
    for (const [node, bucket] of this.#buckets) {
      if (now - bucket.at >= refillMs) this.#buckets.delete(node);
    }
  }
}
