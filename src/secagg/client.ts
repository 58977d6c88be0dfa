/**
 * The client side of SecAgg/SecAgg+ as a sans-I/O state machine: `handle` takes the server's
 * message for the next stage and returns the reply. No I/O, clocks or logging; randomness comes
 * from an injectable source. A client that cannot go on replies `abort` (with a reason the server
 * logs) and stays aborted; its secrets are wiped as soon as it no longer needs them.
 */
import { generateKeyPair, type KeyPair } from '../crypto/agreement.js';
import { open, seal } from '../crypto/aead.js';
import { bytesToHex, equalBytes, zeroize } from '../crypto/bytes.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { split, type Share } from '../crypto/shamir.js';
import { decodeSharePair, encodeSharePair } from './codec.js';
import { applyMasks, type Mask } from '../crypto/mask.js';
import {
  pairwiseMaskKey,
  pairwiseSign,
  ROUND_ID_BYTES,
  SECRET_BYTES,
  selfMaskKey,
  shareAad,
  shareEncryptionKey,
} from './derive.js';
import { InputError, ProtocolError } from './errors.js';
import type {
  ClientMessage,
  EncryptedShare,
  NeighbourKeys,
  OwnedShare,
  ServerMessage,
} from './messages.js';
import { modRangeOf, validateRoundParams, type RoundParams } from './params.js';
import {
  cappedExampleCount,
  checkInput,
  firstNonFinite,
  nonFinite,
  quantizeWeighted,
  stochasticQuantizer,
  type Quantizer,
  type WeightRule,
} from './quantize.js';
import type { Stage } from './stages.js';

export interface ClientInput {
  /** The model update, dim entries. */
  readonly values: Float32Array;
  /** Training examples behind it; the weight rule turns this into the client's weight. */
  readonly numExamples: number;
}

export interface SecAggClientOptions {
  /** The update, or a function producing it when it is needed (at ask-vectors). */
  readonly input: ClientInput | (() => ClientInput);
  readonly quantizer?: Quantizer;
  readonly weightRule?: WeightRule;
  readonly random?: RandomSource;
  /** Accept a threshold of at most half of shareNum (off: such parameters are refused). */
  readonly allowLowThreshold?: boolean;
  /** A client's own policy: return a reason to refuse the server's parameters. */
  readonly accept?: (params: RoundParams) => string | undefined;
}

type Expecting = Stage | 'done' | 'aborted';

/** The shares this client holds of one neighbour's two secrets. */
interface HeldShares {
  readonly keyShare: Uint32Array;
  readonly seedShare: Uint32Array;
}

export class SecAggClient {
  #expecting: Expecting = 'setup';
  #roundId = new Uint8Array(0);
  #id = 0;
  #params: RoundParams | undefined;
  #encryptionKeys: KeyPair | undefined;
  #maskKeys: KeyPair | undefined;
  #selfSeed: Uint8Array | undefined;
  #neighbours = new Map<number, NeighbourKeys>();
  /** Shares held of each neighbour's secrets (its own included), by owner. */
  #held = new Map<number, HeldShares>();
  /** Neighbours whose shares reached this client: exactly those it masks pairwise with. */
  #maskedWith = new Set<number>();
  /** AES keys for shares with each neighbour: derived at share-keys, reused at ask-vectors. */
  #shareAeadKeys = new Map<number, Uint8Array>();

  readonly #options: SecAggClientOptions;
  readonly #random: RandomSource;

  constructor(options: SecAggClientOptions) {
    this.#options = options;
    this.#random = options.random ?? systemRandom;
  }

  /** The stage whose message the client waits for, or 'done' / 'aborted'. */
  get expecting(): Expecting {
    return this.#expecting;
  }

  get id(): number {
    return this.#id;
  }

  handle(message: ServerMessage): ClientMessage {
    if (this.#expecting === 'done' || this.#expecting === 'aborted') {
      return { stage: 'abort', reason: `the round is over for this client (${this.#expecting})` };
    }
    if (message.stage !== this.#expecting) {
      return this.#abort(`expected a ${this.#expecting} message, got ${message.stage}`);
    }
    try {
      switch (message.stage) {
        case 'setup':
          return this.#setup(message.roundId, message.clientId, message.params);
        case 'ask-keys':
          return this.#askKeys();
        case 'share-keys':
          return this.#shareKeys(message.neighbours);
        case 'ask-vectors':
          return this.#askVectors(message.shares);
        case 'unmask':
          return this.#unmask(message.survivors, message.dropped);
      }
    } catch (error) {
      return this.#abort(error instanceof Error ? error.message : String(error));
    }
  }

  #abort(reason: string): ClientMessage {
    this.#expecting = 'aborted';
    this.#wipe();
    return { stage: 'abort', reason };
  }

  #wipe(): void {
    for (const secret of [
      this.#encryptionKeys?.privateKey,
      this.#maskKeys?.privateKey,
      this.#selfSeed,
    ]) {
      if (secret !== undefined) zeroize(secret);
    }
    for (const held of this.#held.values()) {
      held.keyShare.fill(0);
      held.seedShare.fill(0);
    }
    this.#held.clear();
    this.#forgetShareKeys();
  }

  #forgetShareKeys(): void {
    zeroize(...this.#shareAeadKeys.values());
    this.#shareAeadKeys.clear();
  }

  /** The share key with a neighbour; the same from both ends, so one agreement serves both ways. */
  #shareKeyWith(peer: number, neighbour: NeighbourKeys): Uint8Array {
    let key = this.#shareAeadKeys.get(peer);
    if (key === undefined) {
      const own = (this.#encryptionKeys as KeyPair).privateKey;
      key = shareEncryptionKey(own, neighbour.encryptionKey, this.#roundId);
      this.#shareAeadKeys.set(peer, key);
    }
    return key;
  }

  get #round(): RoundParams {
    if (this.#params === undefined) throw new ProtocolError('no parameters yet');
    return this.#params;
  }

  #setup(roundId: Uint8Array, id: number, params: RoundParams): ClientMessage {
    if (roundId.length !== ROUND_ID_BYTES)
      throw new ProtocolError(`round id must be ${ROUND_ID_BYTES} bytes`);
    validateRoundParams(params, this.#options.allowLowThreshold ?? false);
    if (!Number.isInteger(id) || id < 1 || id > 2 ** 22 - 4) {
      throw new ProtocolError(`client id must be an integer in [1, ${2 ** 22 - 4}], got ${id}`);
    }
    const refusal = this.#options.accept?.(params);
    if (refusal !== undefined) throw new ProtocolError(`parameters refused: ${refusal}`);
    this.#roundId = roundId.slice();
    this.#id = id;
    this.#params = params;
    this.#expecting = 'ask-keys';
    return { stage: 'setup' };
  }

  #askKeys(): ClientMessage {
    this.#encryptionKeys = generateKeyPair(this.#random);
    this.#maskKeys = generateKeyPair(this.#random);
    this.#expecting = 'share-keys';
    return {
      stage: 'ask-keys',
      encryptionKey: this.#encryptionKeys.publicKey,
      maskKey: this.#maskKeys.publicKey,
    };
  }

  #shareKeys(neighbours: readonly NeighbourKeys[]): ClientMessage {
    const params = this.#round;
    const encryption = this.#encryptionKeys as KeyPair;
    const mask = this.#maskKeys as KeyPair;
    const keys = new Set<string>();
    for (const neighbour of neighbours) {
      if (this.#neighbours.has(neighbour.clientId)) {
        throw new ProtocolError(`neighbour ${neighbour.clientId} is listed twice`);
      }
      for (const key of [neighbour.encryptionKey, neighbour.maskKey]) {
        const hex = bytesToHex(key);
        if (keys.has(hex))
          throw new ProtocolError(`neighbour ${neighbour.clientId} repeats a public key`);
        keys.add(hex);
      }
      this.#neighbours.set(neighbour.clientId, neighbour);
    }
    const self = this.#neighbours.get(this.#id);
    if (
      self === undefined ||
      !equalBytes(self.encryptionKey, encryption.publicKey) ||
      !equalBytes(self.maskKey, mask.publicKey)
    ) {
      throw new ProtocolError('the neighbour list does not carry this client with its own keys');
    }
    if (neighbours.length < params.threshold || neighbours.length > params.shareNum) {
      throw new ProtocolError(
        `got ${neighbours.length} neighbours; need between threshold ${params.threshold} and shareNum ${params.shareNum}`,
      );
    }

    this.#selfSeed = new Uint8Array(SECRET_BYTES);
    this.#random.fill(this.#selfSeed);
    const holders = neighbours.map((n) => n.clientId);
    const keyShares = split(mask.privateKey, params.threshold, holders, this.#random);
    const seedShares = split(this.#selfSeed, params.threshold, holders, this.#random);

    const shares: EncryptedShare[] = [];
    holders.forEach((holder, i) => {
      const pair = {
        keyShare: (keyShares[i] as Share).value,
        seedShare: (seedShares[i] as Share).value,
      };
      if (holder === this.#id) {
        this.#held.set(holder, pair);
        return;
      }
      const key = this.#shareKeyWith(holder, this.#neighbours.get(holder) as NeighbourKeys);
      const plaintext = encodeSharePair(pair);
      shares.push({
        peer: holder,
        ciphertext: seal(key, plaintext, shareAad(this.#roundId, this.#id, holder), this.#random),
      });
      zeroize(plaintext);
      pair.keyShare.fill(0);
      pair.seedShare.fill(0);
    });
    this.#expecting = 'ask-vectors';
    return { stage: 'share-keys', shares };
  }

  #askVectors(shares: readonly EncryptedShare[]): ClientMessage {
    const params = this.#round;
    const encryption = this.#encryptionKeys as KeyPair;
    const invalidShareSenders: number[] = [];
    for (const { peer, ciphertext } of shares) {
      const neighbour = this.#neighbours.get(peer);
      if (neighbour === undefined || peer === this.#id) {
        throw new ProtocolError(`received a share from ${peer}, which is not a neighbour`);
      }
      if (this.#maskedWith.has(peer)) throw new ProtocolError(`received two shares from ${peer}`);
      this.#maskedWith.add(peer);
      const key = this.#shareKeyWith(peer, neighbour);
      try {
        this.#held.set(
          peer,
          decodeSharePair(open(key, ciphertext, shareAad(this.#roundId, peer, this.#id))),
        );
      } catch {
        // The sender still masked with this client, so the pairwise mask stays; this client just
        // holds no share of the sender and says so.
        invalidShareSenders.push(peer);
      }
    }
    this.#forgetShareKeys();
    if (this.#maskedWith.size + 1 < params.threshold) {
      throw new ProtocolError(
        `only ${this.#maskedWith.size + 1} neighbours (this client included) completed share-keys; ` +
          `threshold is ${params.threshold}`,
      );
    }

    const vector = this.#weightedQuantizedInput(params);
    const maskPrivate = (this.#maskKeys as KeyPair).privateKey;
    const masks: Mask[] = [
      { key: selfMaskKey(this.#selfSeed as Uint8Array, this.#roundId), sign: 1 },
      ...[...this.#maskedWith].map((peer) => ({
        key: pairwiseMaskKey(
          maskPrivate,
          (this.#neighbours.get(peer) as NeighbourKeys).maskKey,
          this.#roundId,
        ),
        sign: pairwiseSign(this.#id, peer),
      })),
    ];
    applyMasks(vector, masks);
    zeroize(...masks.map((mask) => mask.key));
    if (params.modBits < 32) {
      const reduce = modRangeOf(params) - 1;
      for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) & reduce;
    }
    // The masks are applied: the client's own secrets are no longer needed by anyone but the
    // holders of their shares.
    zeroize(maskPrivate, encryption.privateKey, this.#selfSeed as Uint8Array);
    this.#expecting = 'unmask';
    return { stage: 'ask-vectors', vector, invalidShareSenders };
  }

  /** [weight, weight x quantized update], checked before anything is masked. */
  #weightedQuantizedInput(params: RoundParams): Uint32Array {
    const input =
      typeof this.#options.input === 'function' ? this.#options.input() : this.#options.input;
    const values = input.values;
    checkInput(values, input.numExamples, params);
    const weight = (this.#options.weightRule ?? cappedExampleCount)(input.numExamples, params);
    if (!Number.isInteger(weight) || weight < 0 || weight > params.maxWeight) {
      throw new InputError(
        `weight must be an integer in [0, maxWeight = ${params.maxWeight}], got ${weight}`,
      );
    }
    const vector = new Uint32Array(params.dim + 1);
    vector[0] = weight;
    const levels = vector.subarray(1);
    const quantizer = this.#options.quantizer ?? stochasticQuantizer;
    const bad =
      quantizer === stochasticQuantizer
        ? quantizeWeighted(values, weight, params, this.#random, levels)
        : quantizeThenWeigh(quantizer, values, weight, params, this.#random, levels);
    if (bad >= 0) throw new InputError(nonFinite(values, bad));
    return vector;
  }

  #unmask(survivors: readonly number[], dropped: readonly number[]): ClientMessage {
    const params = this.#round;
    const known = (id: number) => id === this.#id || this.#maskedWith.has(id);
    const survivorSet = new Set(survivors);
    const droppedSet = new Set(dropped);
    if (survivorSet.size !== survivors.length || droppedSet.size !== dropped.length) {
      throw new ProtocolError('unmask lists a client twice');
    }
    for (const id of [...survivors, ...dropped]) {
      if (!known(id))
        throw new ProtocolError(
          `unmask names ${id}, which did not complete share-keys with this client`,
        );
      // Returning both shares of one client would hand the server its self mask and its pairwise
      // masks at once, i.e. its unmasked input.
      if (survivorSet.has(id) && droppedSet.has(id)) {
        throw new ProtocolError(`unmask lists ${id} as both a survivor and dropped`);
      }
    }
    if (!survivorSet.has(this.#id))
      throw new ProtocolError('unmask does not list this client as a survivor');
    if (survivors.length < params.threshold) {
      throw new ProtocolError(
        `only ${survivors.length} survivors among the neighbours; threshold is ${params.threshold}`,
      );
    }
    const shareOf = (
      ids: readonly number[],
      pick: (held: HeldShares) => Uint32Array,
    ): OwnedShare[] =>
      ids.flatMap((owner) => {
        const held = this.#held.get(owner);
        return held === undefined ? [] : [{ owner, value: pick(held).slice() }];
      });
    const reply: ClientMessage = {
      stage: 'unmask',
      seedShares: shareOf(survivors, (held) => held.seedShare),
      keyShares: shareOf(dropped, (held) => held.keyShare),
    };
    this.#expecting = 'done';
    this.#wipe();
    return reply;
  }
}

/**
 * `quantizeWeighted` for a plug-in quantizer: checks finiteness, quantizes, then checks each
 * level (a plug-in's output is not trusted: an out-of-range word would wrap the modular sum) and
 * weighs it in place.
 */
function quantizeThenWeigh(
  quantizer: Quantizer,
  values: Float32Array,
  weight: number,
  params: RoundParams,
  random: RandomSource,
  levels: Uint32Array,
): number {
  const bad = firstNonFinite(values);
  if (bad >= 0) return bad;
  quantizer.quantize(values, params, random, levels);
  const targetRange = params.targetRange;
  for (let i = 0; i < levels.length; i++) {
    const q = levels[i] as number;
    if (q >= targetRange) throw new InputError(`quantizer produced ${q}, outside [0, targetRange)`);
    // weight x q < maxWeight x targetRange <= modRange <= 2^32 (checked with the parameters),
    // so the 32-bit product is exact and V8 stays in integer arithmetic.
    levels[i] = Math.imul(weight, q) >>> 0;
  }
  return -1;
}
