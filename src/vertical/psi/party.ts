/**
 * One party of two-party ECDH-PSI (Meadows 1986; Huberman, Franklin, Hogg 1999) as a sans-I/O
 * state machine: `start()` gives the message to send first, `receive(message)` the replies.
 *
 * With H the hash to ristretto255 and a, b the parties' secret scalars:
 *   1. each party sends its blinded set {a·H(x)} (resp. {b·H(y)}) in a uniformly random order;
 *   2. each multiplies the set it received by its own scalar and sends it back in the order
 *      received: A gets {b·a·H(x)} aligned with its own shuffled order, B gets {a·b·H(y)};
 *   3. each party now holds the double-blinded values of its own ids (returned by the peer) and
 *      of the peer's ids (computed in step 2); an id is in the intersection when its value is in
 *      both.
 * Both parties learn the intersection and the size of the other's set, nothing else: under DDH
 * in the random-oracle model the double-blinded values of ids outside the intersection look
 * random, and the shuffle makes positions meaningless (semi-honest security; a malicious party
 * can always choose its input set, and can lie about its output, so there is no stronger claim).
 *
 * Aligned order: both parties sort the intersection by the double-blinded encoding, which they
 * hold identically, so row k of A's aligned data and row k of B's belong to the same id with no
 * further message; the order is pseudorandom and says nothing about the ids.
 *
 * Every check on a message runs before any state changes: a refused message leaves the party as
 * it was.
 *
 * The group arithmetic is a `PsiGroup` (group.ts), which may run on other threads, so `start` and
 * `receive` return promises; the machine still does no I/O of its own. A step refuses to begin
 * while the same step is under way, so overlapping calls cannot both pass the checks.
 */
import { type RandomSource, shuffle, systemRandom } from '../../crypto/random.js';
import { bytesToHex, zeroize } from '../../crypto/bytes.js';
import { PeerError, VerticalInputError } from '../errors.js';
import {
  ELEMENT_BYTES,
  InvalidPointError,
  type PsiGroup,
  randomScalar,
  type Scalar,
} from './group.js';
import type { BlindedSet, DoubleBlindedSet, PsiMessage } from './messages.js';
import { sodiumGroup } from './sodium-group.js';

export interface PsiPartyOptions {
  /** This party's name, used in errors. */
  party: string;
  /** The peer's name, used in errors about its messages. */
  peer: string;
  /** Source of the secret scalar and the shuffle; the platform CSPRNG unless a test injects one. */
  random?: RandomSource;
  /**
   * The group arithmetic; default libsodium on the calling thread (`sodiumGroup()`). Under Node,
   * `startWorkerGroup()` (worker-group.ts) spreads it over every core.
   */
  group?: PsiGroup;
}

export interface PsiResult {
  /** The common ids, in the aligned order both parties share. */
  ids: string[];
  /** For each aligned id, its position in this party's input. */
  indices: number[];
  /** How many ids the peer holds: the one fact about the peer's other ids that PSI reveals. */
  peerCount: number;
}

/** Splits a concatenation of encodings, refusing ragged lengths and repeated elements. */
function elementsOf(points: Uint8Array, what: string, fail: (message: string) => never): string[] {
  if (points.length % ELEMENT_BYTES !== 0) {
    fail(`${what}: ${points.length} bytes is not a whole number of ${ELEMENT_BYTES}-byte points`);
  }
  const keys: string[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < points.length / ELEMENT_BYTES; i++) {
    const key = bytesToHex(points.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES));
    const earlier = seen.get(key);
    if (earlier !== undefined) fail(`${what}: point ${i} repeats point ${earlier}`);
    seen.set(key, i);
    keys.push(key);
  }
  return keys;
}

export class PsiParty {
  readonly party: string;
  readonly peer: string;
  private readonly ids: readonly string[];
  private readonly random: RandomSource;
  private readonly group: PsiGroup | undefined;
  /** Secret; overwritten with zeros and dropped once both multiplications are done. */
  private scalar: Scalar | undefined;
  /** Steps under way (their checks passed, their multiplications not yet done). */
  private starting = false;
  private answering = false;
  /** order[i] = index in `ids` of the id sent at position i of the blinded set. */
  private order: number[] | undefined;
  /** Hex of a·b·H(y) for each of the peer's ids (peer's order); set by the peer's blinded set. */
  private peerValues: Set<string> | undefined;
  /** Hex of a·b·H(x) for each own id, by index in `ids`; set by the double-blinded set. */
  private ownValues: string[] | undefined;

  constructor(ids: readonly string[], options: PsiPartyOptions) {
    this.party = options.party;
    this.peer = options.peer;
    const seen = new Map<string, number>();
    ids.forEach((id, i) => {
      const earlier = seen.get(id);
      if (earlier !== undefined) {
        throw new VerticalInputError(this.party, `id ${JSON.stringify(id)} at ${earlier} and ${i}`);
      }
      seen.set(id, i);
    });
    this.ids = ids;
    this.random = options.random ?? systemRandom;
    this.group = options.group;
    this.scalar = randomScalar(this.random);
  }

  /** Step 1: this party's blinded set. Call once. */
  async start(): Promise<BlindedSet> {
    if (this.order !== undefined || this.starting) {
      throw new Error(`${this.party}: PSI already started`);
    }
    const scalar = this.liveScalar();
    this.starting = true;
    try {
      const order = shuffle(
        this.ids.map((_, i) => i),
        this.random,
      );
      const group = await this.groupInUse();
      const points = await group.hashAndMultiply(
        order.map((index) => this.ids[index] as string),
        scalar,
      );
      this.order = order;
      this.dropScalarWhenDone();
      return { kind: 'blinded', points };
    } finally {
      this.starting = false;
    }
  }

  /** Steps 2 and 3: answers the peer's blinded set, records its double-blinded one. */
  async receive(message: PsiMessage): Promise<PsiMessage[]> {
    if (message.kind === 'blinded') return [await this.doubleBlind(message)];
    this.recordOwnValues(message);
    return [];
  }

  /** The intersection, once both of the peer's messages have been received. */
  get result(): PsiResult | undefined {
    const { peerValues, ownValues } = this;
    if (peerValues === undefined || ownValues === undefined) return undefined;
    const indices = ownValues.flatMap((value, index) => (peerValues.has(value) ? [index] : []));
    indices.sort((i, j) => compare(ownValues[i] as string, ownValues[j] as string));
    return {
      ids: indices.map((index) => this.ids[index] as string),
      indices,
      peerCount: peerValues.size,
    };
  }

  private async doubleBlind(message: BlindedSet): Promise<DoubleBlindedSet> {
    if (this.peerValues !== undefined || this.answering) this.fail('a second blinded set');
    const fail = (text: string): never => this.fail(text);
    elementsOf(message.points, 'blinded set', fail);
    const scalar = this.liveScalar();
    this.answering = true;
    try {
      const group = await this.groupInUse();
      let points: Uint8Array;
      try {
        points = await group.multiply(message.points, scalar);
      } catch (error) {
        if (error instanceof InvalidPointError) this.fail(`blinded set: ${error.message}`);
        throw error;
      }
      const values = new Set<string>();
      for (let i = 0; i < points.length / ELEMENT_BYTES; i++) {
        values.add(bytesToHex(points.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES)));
      }
      this.peerValues = values;
      this.dropScalarWhenDone();
      return { kind: 'double-blinded', points };
    } finally {
      this.answering = false;
    }
  }

  /**
   * Double-blinded points are compared as bytes, never multiplied, so they are not decoded: a
   * peer sending a junk encoding gains nothing it could not get by sending a valid non-matching
   * point, and decoding 100,000 of them would cost seconds.
   */
  private recordOwnValues(message: DoubleBlindedSet): void {
    const { order } = this;
    if (order === undefined) this.fail('a double-blinded set before this party sent its own');
    if (this.ownValues !== undefined) this.fail('a second double-blinded set');
    const fail = (text: string): never => this.fail(text);
    const values = elementsOf(message.points, 'double-blinded set', fail);
    if (values.length !== order.length) {
      this.fail(`double-blinded set has ${values.length} points, this party sent ${order.length}`);
    }
    const ownValues = new Array<string>(order.length);
    order.forEach((index, position) => (ownValues[index] = values[position] as string));
    this.ownValues = ownValues;
  }

  private groupInUse(): Promise<PsiGroup> {
    return this.group === undefined ? sodiumGroup() : Promise.resolve(this.group);
  }

  private liveScalar(): Scalar {
    if (this.scalar === undefined) throw new Error(`${this.party}: PSI scalar already dropped`);
    return this.scalar;
  }

  private dropScalarWhenDone(): void {
    if (this.order !== undefined && this.peerValues !== undefined && this.scalar !== undefined) {
      zeroize(this.scalar);
      this.scalar = undefined;
    }
  }

  private fail(message: string): never {
    throw new PeerError(this.party, this.peer, message);
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
