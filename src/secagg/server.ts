/**
 * The server side of SecAgg/SecAgg+ as a sans-I/O state machine.
 *
 * The driver (simulator, network service) calls `start`, then `receive` for every client message
 * and `closeStage` when a stage's deadline passes; each call returns the messages to send, what
 * happened to which client, and at the end the aggregate or the reason for aborting. The machine
 * advances by itself once every client still in the round has answered the current stage.
 *
 * Invariants:
 * - A client that breaks the protocol, aborts or misses a deadline is dropped from every later
 *   stage; contributions it made before stay (they are consistent), and messages it sends later
 *   are ignored. Dropping never aborts the round unless the round can no longer finish.
 * - Masked vectors are added to one running sum as they arrive: memory is O(dim), not
 *   O(clients x dim).
 * - No client is ever asked for both the seed share and the key share of the same peer: survivors
 *   and dropped clients of the unmask stage are fixed once, when ask-vectors closes.
 */
import { isSmallOrderKey, publicKeyOf } from '../crypto/agreement.js';
import { SEAL_OVERHEAD } from '../crypto/aead.js';
import { bytesToHex, equalBytes, zeroize } from '../crypto/bytes.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { combine, type Share } from '../crypto/shamir.js';
import { SHARE_PAIR_BYTES } from './codec.js';
import { applyMasks, type Mask } from '../crypto/mask.js';
import { addWordsInto } from '../crypto/vector-add.js';
import {
  pairwiseMaskKey,
  pairwiseSign,
  ROUND_ID_BYTES,
  SECRET_BYTES,
  selfMaskKey,
} from './derive.js';
import { ProtocolError, RoundAbortedError } from './errors.js';
import { drawGraph, type NeighbourGraph } from './graph.js';
import type {
  ClientMessage,
  EncryptedShare,
  NeighbourKeys,
  OwnedShare,
  ServerMessage,
} from './messages.js';
import { modRangeOf, resolveRoundParams, type RoundParams, type SecAggOptions } from './params.js';
import { stochasticQuantizer, type Quantizer } from './quantize.js';
import type { Stage } from './stages.js';

export interface SecAggServerOptions {
  /** The ids of the sampled clients, distinct integers in [1, 2^22 - 4] (Shamir x-coordinates). */
  readonly clients: readonly number[];
  /** Entries of each client's update. */
  readonly dim: number;
  readonly options?: SecAggOptions;
  readonly quantizer?: Quantizer;
  readonly random?: RandomSource;
}

export interface Outgoing {
  readonly to: number;
  readonly message: ServerMessage;
}

/** Something that happened to one client: always names it and the stage. */
export interface ClientEvent {
  readonly client: number;
  readonly stage: Stage;
  /** dropped: out of the round from now on; ignored: a message was discarded; reported: a peer's complaint. */
  readonly kind: 'dropped' | 'ignored' | 'reported';
  readonly reason: string;
}

export interface AggregateResult {
  /** The weighted mean of the surviving clients' updates, dequantized. */
  readonly values: Float32Array;
  readonly totalWeight: number;
  /** The exact modular sum: [sum of weights, sum of weighted quantized entries...]. */
  readonly sum: Uint32Array;
  /** Clients whose masked vectors are in the sum. */
  readonly survivors: readonly number[];
  /** Clients that left the round, with the stage during which they left. */
  readonly dropped: ReadonlyMap<number, Stage>;
}

export interface ServerStep {
  readonly send: readonly Outgoing[];
  readonly events: readonly ClientEvent[];
  readonly result?: AggregateResult;
  readonly aborted?: RoundAbortedError;
}

type ServerStage = Stage | 'idle' | 'done' | 'aborted';

export class SecAggServer {
  readonly params: RoundParams;
  readonly roundId: Uint8Array;

  #stage: ServerStage = 'idle';
  readonly #clients: ReadonlySet<number>;
  /** Clients still taking part; shrinks as clients drop. */
  readonly #active: Set<number>;
  /** Participants of the current stage that have answered it. */
  #answered = new Set<number>();
  readonly #dropped = new Map<number, Stage>();
  readonly #publicKeys = new Map<number, NeighbourKeys>();
  readonly #keyOwners = new Map<string, number>();
  #graph: NeighbourGraph = new Map();
  /** Sealed shares waiting to be relayed, by receiver. */
  #relay = new Map<number, EncryptedShare[]>();
  /** Clients whose shares were relayed (U2): every neighbour masks with exactly these. */
  #shareHolders = new Set<number>();
  /** Clients whose masked vectors are in the sum (U3). */
  readonly #vectorSenders = new Set<number>();
  #sum: Uint32Array;
  /** What each unmask participant was asked for: its survivors and dropped neighbours. */
  readonly #unmaskAsked = new Map<number, { survivors: Set<number>; dropped: Set<number> }>();
  readonly #seedShares = new Map<number, Share[]>();
  readonly #keyShares = new Map<number, Share[]>();
  #events: ClientEvent[] = [];

  readonly #quantizer: Quantizer;
  readonly #random: RandomSource;

  constructor(options: SecAggServerOptions) {
    const ids = [...options.clients];
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 1 || id > 2 ** 22 - 4) {
        throw new ProtocolError(`client ids must be integers in [1, ${2 ** 22 - 4}], got ${id}`);
      }
    }
    if (new Set(ids).size !== ids.length) throw new ProtocolError('client ids must be distinct');
    this.params = resolveRoundParams(options.options ?? {}, ids.length, options.dim);
    this.#clients = new Set(ids);
    this.#active = new Set(ids);
    this.#quantizer = options.quantizer ?? stochasticQuantizer;
    this.#random = options.random ?? systemRandom;
    this.roundId = new Uint8Array(ROUND_ID_BYTES);
    this.#random.fill(this.roundId);
    this.#sum = new Uint32Array(options.dim + 1);
  }

  get stage(): ServerStage {
    return this.#stage;
  }

  /** Clients that have not answered the current stage yet (and have not dropped). */
  get waitingFor(): number[] {
    return [...this.#active].filter((id) => !this.#answered.has(id) && this.#participates(id));
  }

  start(): ServerStep {
    if (this.#stage !== 'idle') throw new ProtocolError('the round has already started');
    this.#stage = 'setup';
    return this.#step(
      [...this.#active].map((to) => ({
        to,
        message: { stage: 'setup', roundId: this.roundId, clientId: to, params: this.params },
      })),
    );
  }

  receive(from: number, message: ClientMessage): ServerStep {
    if (this.#stage === 'done' || this.#stage === 'aborted' || this.#stage === 'idle') {
      return this.#ignore(from, `the round is ${this.#stage}`);
    }
    const stage = this.#stage;
    if (!this.#clients.has(from)) return this.#ignore(from, 'not a client of this round');
    if (!this.#active.has(from)) return this.#ignore(from, `arrived after the client was dropped`);
    if (!this.#participates(from)) return this.#ignore(from, `not a participant of ${stage}`);
    if (message.stage === 'abort') {
      this.#drop(from, `client aborted: ${message.reason}`);
      return this.#advanceIfComplete();
    }
    if (this.#answered.has(from)) {
      this.#drop(from, `answered ${stage} twice`);
      return this.#advanceIfComplete();
    }
    if (message.stage !== stage) {
      this.#drop(from, `sent a ${message.stage} message during ${stage}`);
      return this.#advanceIfComplete();
    }
    try {
      this.#accept(from, message);
      this.#answered.add(from);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#drop(from, error.message);
    }
    return this.#advanceIfComplete();
  }

  /** A message from `from` could not be decoded: the sender is dropped. */
  receiveMalformed(from: number, reason: string): ServerStep {
    if (!this.#active.has(from))
      return this.#ignore(from, `undecodable message after drop: ${reason}`);
    this.#drop(from, `sent an undecodable message: ${reason}`);
    return this.#advanceIfComplete();
  }

  /** The current stage's deadline passed: whoever has not answered is dropped. */
  closeStage(): ServerStep {
    if (this.#stage === 'done' || this.#stage === 'aborted' || this.#stage === 'idle')
      return this.#step([]);
    for (const id of this.waitingFor)
      this.#drop(id, `no answer before the ${this.#stage} deadline`);
    return this.#advance();
  }

  // ---- bookkeeping ----

  #step(send: Outgoing[], extra: Partial<ServerStep> = {}): ServerStep {
    const events = this.#events;
    this.#events = [];
    return { send, events, ...extra };
  }

  #ignore(client: number, reason: string): ServerStep {
    const stage =
      this.#stage === 'idle' || this.#stage === 'done' || this.#stage === 'aborted'
        ? 'unmask'
        : this.#stage;
    this.#events.push({ client, stage, kind: 'ignored', reason });
    return this.#step([]);
  }

  #drop(client: number, reason: string): void {
    const stage = this.#stage as Stage;
    this.#active.delete(client);
    if (!this.#dropped.has(client)) this.#dropped.set(client, stage);
    this.#events.push({ client, stage, kind: 'dropped', reason });
  }

  /** Unmask is asked only of vector senders; every other stage of every active client. */
  #participates(id: number): boolean {
    return this.#stage !== 'unmask' || this.#unmaskAsked.has(id);
  }

  /** Whether every active participant of the stage has answered (waitingFor is empty). */
  #complete(): boolean {
    for (const id of this.#active) {
      if (!this.#answered.has(id) && this.#participates(id)) return false;
    }
    return true;
  }

  // Called on every answer: #complete stops at the first client still awaited and builds no list.
  #advanceIfComplete(): ServerStep {
    return this.#complete() ? this.#advance() : this.#step([]);
  }

  #advance(): ServerStep {
    try {
      const send = this.#nextStage();
      return this.#step(send, this.#stage === 'done' ? { result: this.#result() } : {});
    } catch (error) {
      if (!(error instanceof RoundAbortedError)) throw error;
      this.#stage = 'aborted';
      this.#sum.fill(0);
      this.#relay.clear();
      return this.#step([], { aborted: error });
    }
  }

  #abort(reason: string): never {
    throw new RoundAbortedError(this.#stage as Stage, reason);
  }

  #requireMinimum(count: number, what: string): void {
    if (count < this.params.minClients) {
      this.#abort(`${count} clients ${what}, fewer than the minimum of ${this.params.minClients}`);
    }
  }

  #enter(stage: Stage): void {
    this.#stage = stage;
    this.#answered = new Set();
  }

  // ---- receiving ----

  #accept(from: number, message: ClientMessage): void {
    switch (message.stage) {
      case 'setup':
        return;
      case 'ask-keys':
        return this.#acceptKeys(from, message.encryptionKey, message.maskKey);
      case 'share-keys':
        return this.#acceptShares(from, message.shares);
      case 'ask-vectors':
        return this.#acceptVector(from, message.vector, message.invalidShareSenders);
      case 'unmask':
        return this.#acceptUnmask(from, message.seedShares, message.keyShares);
      case 'abort':
        return;
    }
  }

  #acceptKeys(from: number, encryptionKey: Uint8Array, maskKey: Uint8Array): void {
    if (equalBytes(encryptionKey, maskKey))
      throw new ProtocolError('uses one key for both purposes', from);
    for (const key of [encryptionKey, maskKey]) {
      if (isSmallOrderKey(key)) throw new ProtocolError('sent a public key of small order', from);
      const owner = this.#keyOwners.get(bytesToHex(key));
      if (owner !== undefined)
        throw new ProtocolError(`repeats the public key of client ${owner}`, from);
    }
    for (const key of [encryptionKey, maskKey]) this.#keyOwners.set(bytesToHex(key), from);
    this.#publicKeys.set(from, { clientId: from, encryptionKey, maskKey });
  }

  #acceptShares(from: number, shares: readonly EncryptedShare[]): void {
    const expected = new Set(this.neighboursOf(from).filter((id) => id !== from));
    const sealedBytes = SHARE_PAIR_BYTES + SEAL_OVERHEAD;
    for (const { peer, ciphertext } of shares) {
      if (!expected.delete(peer))
        throw new ProtocolError(`sent a share to ${peer}, not an unserved neighbour`, from);
      if (ciphertext.length !== sealedBytes) {
        throw new ProtocolError(
          `sent a share of ${ciphertext.length} bytes, expected ${sealedBytes}`,
          from,
        );
      }
    }
    if (expected.size > 0)
      throw new ProtocolError(`sent no share to ${[...expected].join(', ')}`, from);
    for (const { peer, ciphertext } of shares) {
      let queue = this.#relay.get(peer);
      if (queue === undefined) this.#relay.set(peer, (queue = []));
      queue.push({ peer: from, ciphertext });
    }
  }

  #acceptVector(from: number, vector: Uint32Array, invalidShareSenders: readonly number[]): void {
    if (vector.length !== this.params.dim + 1) {
      throw new ProtocolError(
        `sent a vector of ${vector.length} entries, expected ${this.params.dim + 1}`,
        from,
      );
    }
    const neighbours = new Set(this.neighboursOf(from));
    for (const sender of invalidShareSenders) {
      if (!neighbours.has(sender) || !this.#shareHolders.has(sender)) {
        throw new ProtocolError(
          `reports an invalid share from ${sender}, which sent it none`,
          from,
        );
      }
    }
    addWordsInto(this.#sum, vector);
    this.#vectorSenders.add(from);
    for (const sender of invalidShareSenders) {
      this.#events.push({
        client: sender,
        stage: 'ask-vectors',
        kind: 'reported',
        reason: `client ${from} could not decrypt the share it received from client ${sender}`,
      });
    }
  }

  #acceptUnmask(
    from: number,
    seedShares: readonly OwnedShare[],
    keyShares: readonly OwnedShare[],
  ): void {
    const asked = this.#unmaskAsked.get(from) as { survivors: Set<number>; dropped: Set<number> };
    const check = (shares: readonly OwnedShare[], allowed: Set<number>, what: string) => {
      const seen = new Set<number>();
      for (const { owner } of shares) {
        if (!allowed.has(owner) || seen.has(owner)) {
          throw new ProtocolError(
            `returned an unrequested or repeated ${what} share of ${owner}`,
            from,
          );
        }
        seen.add(owner);
      }
    };
    check(seedShares, asked.survivors, 'seed');
    check(keyShares, asked.dropped, 'key');
    const store = (shares: readonly OwnedShare[], into: Map<number, Share[]>) => {
      for (const { owner, value } of shares) {
        let list = into.get(owner);
        if (list === undefined) into.set(owner, (list = []));
        list.push({ index: from, value });
      }
    };
    store(seedShares, this.#seedShares);
    store(keyShares, this.#keyShares);
  }

  /** The neighbours drawn for a client at share-keys (itself included); empty before then. */
  neighboursOf(id: number): readonly number[] {
    return this.#graph.get(id) ?? [];
  }

  // ---- advancing ----

  #nextStage(): Outgoing[] {
    const stage = this.#stage as Stage;
    const answered = [...this.#answered].filter((id) => this.#active.has(id));
    switch (stage) {
      case 'setup':
        this.#requireMinimum(answered.length, 'accepted the parameters');
        this.#enter('ask-keys');
        return answered.map((to) => ({ to, message: { stage: 'ask-keys' } }));
      case 'ask-keys':
        return this.#toShareKeys(answered);
      case 'share-keys':
        return this.#toAskVectors(answered);
      case 'ask-vectors':
        return this.#toUnmask();
      case 'unmask':
        this.#unmaskSum();
        this.#stage = 'done';
        return [];
    }
  }

  #toShareKeys(keyHolders: number[]): Outgoing[] {
    this.#requireMinimum(keyHolders.length, 'sent public keys');
    if (keyHolders.length < this.params.threshold) {
      this.#abort(
        `${keyHolders.length} clients sent keys, fewer than the threshold ${this.params.threshold}`,
      );
    }
    this.#graph = drawGraph(keyHolders, this.params.shareNum, this.#random);
    this.#enter('share-keys');
    return keyHolders.map((to) => ({
      to,
      message: {
        stage: 'share-keys',
        neighbours: this.neighboursOf(to).map((id) => this.#publicKeys.get(id) as NeighbourKeys),
      },
    }));
  }

  #toAskVectors(shareSenders: number[]): Outgoing[] {
    const holders = new Set(shareSenders);
    // A client whose shares reached fewer than threshold live holders could never be unmasked:
    // leave it out before anyone masks with it. Removing it can starve another, so repeat.
    for (let changed = true; changed;) {
      changed = false;
      for (const id of holders) {
        const live = this.neighboursOf(id).filter((n) => holders.has(n)).length;
        if (live < this.params.threshold) {
          holders.delete(id);
          this.#drop(
            id,
            `only ${live} of its neighbours completed share-keys; threshold is ${this.params.threshold}`,
          );
          changed = true;
        }
      }
    }
    this.#requireMinimum(holders.size, 'completed share-keys');
    this.#shareHolders = holders;
    const relay = this.#relay;
    this.#relay = new Map();
    this.#enter('ask-vectors');
    return [...holders].map((to) => ({
      to,
      message: {
        stage: 'ask-vectors',
        shares: (relay.get(to) ?? []).filter((share) => holders.has(share.peer)),
      },
    }));
  }

  #toUnmask(): Outgoing[] {
    const survivors = this.#vectorSenders;
    this.#requireMinimum(survivors.size, 'sent masked vectors');
    const live = (id: number) =>
      this.neighboursOf(id).filter((n) => survivors.has(n) && this.#active.has(n)).length;
    for (const id of this.#shareHolders) {
      const needed = survivors.has(id) || this.neighboursOf(id).some((n) => survivors.has(n));
      if (needed && live(id) < this.params.threshold) {
        const secret = survivors.has(id) ? 'self-mask seed' : 'mask key';
        this.#abort(
          `the ${secret} of client ${id} has ${live(id)} live share holders; threshold is ${this.params.threshold}`,
        );
      }
    }
    this.#enter('unmask');
    const out: Outgoing[] = [];
    for (const to of survivors) {
      if (!this.#active.has(to)) continue;
      const neighbours = this.neighboursOf(to).filter((n) => this.#shareHolders.has(n));
      const asked = {
        survivors: new Set(neighbours.filter((n) => survivors.has(n))),
        dropped: new Set(neighbours.filter((n) => !survivors.has(n))),
      };
      this.#unmaskAsked.set(to, asked);
      out.push({
        to,
        message: { stage: 'unmask', survivors: [...asked.survivors], dropped: [...asked.dropped] },
      });
    }
    return out;
  }

  #reconstruct(owner: number, shares: Map<number, Share[]>, what: string): Uint8Array {
    const received = shares.get(owner) ?? [];
    // Holders that were live when unmask began may still vanish before answering it; the
    // round then cannot complete, which SecAgg accepts as the price of dropout tolerance.
    if (received.length < this.params.threshold) {
      this.#abort(
        `the ${what} of client ${owner} has ${received.length} shares from unmask answers; threshold is ${this.params.threshold}`,
      );
    }
    try {
      return combine(received, this.params.threshold, SECRET_BYTES);
    } catch (error) {
      this.#abort(`cannot reconstruct the ${what} of client ${owner}: ${(error as Error).message}`);
    }
  }

  /**
   * Removes every mask from the running sum: the self masks of the vector senders, and the
   * pairwise masks that the senders share with share holders whose vectors never arrived. All
   * streams go through one pass over the sum (see applyMasks).
   */
  #unmaskSum(): void {
    const sum = this.#sum;
    const masks: Mask[] = [];
    for (const id of this.#vectorSenders) {
      const seed = this.#reconstruct(id, this.#seedShares, 'self-mask seed');
      masks.push({ key: selfMaskKey(seed, this.roundId), sign: -1 });
      zeroize(seed);
    }
    for (const id of this.#shareHolders) {
      if (this.#vectorSenders.has(id)) continue;
      const maskedWithIt = this.neighboursOf(id).filter((n) => this.#vectorSenders.has(n));
      if (maskedWithIt.length === 0) continue;
      const privateKey = this.#reconstruct(id, this.#keyShares, 'mask key');
      if (
        !equalBytes(publicKeyOf(privateKey), (this.#publicKeys.get(id) as NeighbourKeys).maskKey)
      ) {
        this.#abort(`the reconstructed mask key of client ${id} does not match its public key`);
      }
      for (const survivor of maskedWithIt) {
        const key = pairwiseMaskKey(
          privateKey,
          (this.#publicKeys.get(survivor) as NeighbourKeys).maskKey,
          this.roundId,
        );
        // The survivor applied the mask with pairwiseSign(survivor, id); take it back out.
        masks.push({ key, sign: pairwiseSign(survivor, id) === 1 ? -1 : 1 });
      }
      zeroize(privateKey);
    }
    applyMasks(sum, masks);
    zeroize(...masks.map((mask) => mask.key));
    if (this.params.modBits < 32) {
      const reduce = modRangeOf(this.params) - 1;
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) & reduce;
    }
    if (sum[0] === 0) this.#abort('the surviving clients have a total weight of zero');
  }

  #result(): AggregateResult {
    const totalWeight = this.#sum[0] as number;
    return {
      values: this.#quantizer.dequantize(this.#sum.subarray(1), totalWeight, this.params),
      totalWeight,
      sum: this.#sum,
      survivors: [...this.#vectorSenders].sort((a, b) => a - b),
      dropped: new Map(this.#dropped),
    };
  }
}
