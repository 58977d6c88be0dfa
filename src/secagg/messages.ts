/**
 * The protocol's messages as TypeScript values. `codec.ts` is their one binary encoding; the
 * state machines never see bytes.
 */
import type { RoundParams } from './params.js';

export interface NeighbourKeys {
  readonly clientId: number;
  readonly encryptionKey: Uint8Array;
  readonly maskKey: Uint8Array;
}

/** A sealed pair of shares; `peer` is the receiver on the way up, the sender on the way down. */
export interface EncryptedShare {
  readonly peer: number;
  readonly ciphertext: Uint8Array;
}

/** A Shamir share of `owner`'s secret; its x-coordinate is the id of the client returning it. */
export interface OwnedShare {
  readonly owner: number;
  readonly value: Uint32Array;
}

export type ServerMessage =
  | {
      readonly stage: 'setup';
      readonly roundId: Uint8Array;
      readonly clientId: number;
      readonly params: RoundParams;
    }
  | { readonly stage: 'ask-keys' }
  | { readonly stage: 'share-keys'; readonly neighbours: readonly NeighbourKeys[] }
  | { readonly stage: 'ask-vectors'; readonly shares: readonly EncryptedShare[] }
  | {
      readonly stage: 'unmask';
      readonly survivors: readonly number[];
      readonly dropped: readonly number[];
    };

export type ClientMessage =
  | { readonly stage: 'setup' }
  | { readonly stage: 'ask-keys'; readonly encryptionKey: Uint8Array; readonly maskKey: Uint8Array }
  | { readonly stage: 'share-keys'; readonly shares: readonly EncryptedShare[] }
  | {
      readonly stage: 'ask-vectors';
      /** dim + 1 entries below modRange: the weight, then the weighted quantized update. */
      readonly vector: Uint32Array;
      readonly invalidShareSenders: readonly number[];
    }
  | {
      readonly stage: 'unmask';
      readonly seedShares: readonly OwnedShare[];
      readonly keyShares: readonly OwnedShare[];
    }
  | { readonly stage: 'abort'; readonly reason: string };
