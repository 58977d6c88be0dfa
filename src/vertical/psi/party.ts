/**
 * One party of two-party ECDH-PSI (Meadows 1986; Huberman, Franklin, Hogg 1999) as a sans-I/O
 * state machine: `start()` gives the message to send first, `receive(message)` the replies.
 *
 * With H the hash to ristretto255 and a, b the parties' secret scalars (group.ts: every value
 * sent is the u-coordinate of a group element, which stands for the element up to sign):
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
 * Aligned order: both parties sort the intersection by the double-blinded values, which they
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
import { zeroize } from '../../crypto/bytes.js';
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
import { SortedPoints } from './sorted-points.js';

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

type Fail = (message: string) => never;

/** Refuses a message whose length is not a whole number of points. */
function checkWhole(points: Uint8Array, what: string, fail: Fail): void {
  if (points.length % ELEMENT_BYTES !== 0) {
    fail(`${what}: ${points.length} bytes is not a whole number of ${ELEMENT_BYTES}-byte points`);
  }
}

/** The points in byte order, refusing repeated ones. */
function distinctPoints(points: Uint8Array, what: string, fail: Fail): SortedPoints {
  const sorted = new SortedPoints(points);
  const repeat = sorted.repeat();
  if (repeat !== undefined) fail(`${what}: point ${repeat[1]} repeats point ${repeat[0]}`);
  return sorted;
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
  /** a·b·H(y) for each of the peer's ids (peer's order); set by the peer's blinded set. */
  private peerValues: SortedPoints | undefined;
  /** a·b·H(x) for each own id, in the order of `order`; set by the double-blinded set. */
  private ownValues: SortedPoints | undefined;

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
    const { order, peerValues, ownValues } = this;
    if (order === undefined || peerValues === undefined || ownValues === undefined) {
      return undefined;
    }
    // In ascending order of the double-blinded points: the aligned order.
    const indices = ownValues.positionsAlsoIn(peerValues).map((sent) => order[sent] as number);
    return {
      ids: indices.map((index) => this.ids[index] as string),
      indices,
      peerCount: peerValues.count,
    };
  }

  private async doubleBlind(message: BlindedSet): Promise<DoubleBlindedSet> {
    if (this.peerValues !== undefined || this.answering) this.fail('a second blinded set');
    const fail = (text: string): never => this.fail(text);
    checkWhole(message.points, 'blinded set', fail);
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
      // Products are equal exactly when the points are, up to sign and small-order parts (b is
      // invertible), so they show repeats, disguised ones included.
      this.peerValues = distinctPoints(points, 'blinded set', fail);
      this.dropScalarWhenDone();
      return { kind: 'double-blinded', points };
    } finally {
      this.answering = false;
    }
  }

  /**
   * Double-blinded values are compared as bytes, never multiplied, so they are not checked: a
   * peer sending junk gains nothing it could not get by sending valid non-matching values.
   */
  private recordOwnValues(message: DoubleBlindedSet): void {
    const { order } = this;
    if (order === undefined) this.fail('a double-blinded set before this party sent its own');
    if (this.ownValues !== undefined) this.fail('a second double-blinded set');
    const fail = (text: string): never => this.fail(text);
    checkWhole(message.points, 'double-blinded set', fail);
    const count = message.points.length / ELEMENT_BYTES;
    if (count !== order.length) {
      this.fail(`double-blinded set has ${count} points, this party sent ${order.length}`);
    }
    this.ownValues = distinctPoints(message.points, 'double-blinded set', fail);
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
