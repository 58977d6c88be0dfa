import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { seededRandom } from '../../src/crypto/random.js';
import { ristretto255_hasher } from '@noble/curves/ed25519.js';
import { invert } from '@noble/curves/abstract/modular.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { bytesToHex, utf8 } from '../../src/crypto/bytes.js';
import { PeerError, VerticalInputError } from '../../src/vertical/errors.js';
import { decodePsiMessage, encodePsiMessage } from '../../src/vertical/psi/codec.js';
import {
  ELEMENT_BYTES,
  PSI_DST,
  type PsiGroup,
  randomScalar,
} from '../../src/vertical/psi/group.js';
import { squareModPrime } from '../../src/vertical/psi/field25519.js';
import type { DoubleBlindedSet, PsiMessage } from '../../src/vertical/psi/messages.js';
import { nobleGroup } from '../../src/vertical/psi/noble-group.js';
import { PsiParty } from '../../src/vertical/psi/party.js';
import { simulatePsi } from '../../src/vertical/psi/simulate.js';
import { sodiumGroup } from '../../src/vertical/psi/sodium-group.js';
import { startWorkerGroup, type WorkerGroup } from '../../src/vertical/psi/worker-group.js';

const RUNS = Number(process.env.SEPAL_PROPERTY_RUNS ?? 8);
const party = (ids: string[], name = 'alice', peer = 'bob', seed = 1, group?: PsiGroup) =>
  new PsiParty(ids, {
    party: name,
    peer,
    random: seededRandom(seed, name),
    ...(group === undefined ? {} : { group }),
  });

/** Every message of one complete run between a and b, as bytes; both use `group`. */
async function transcript(aIds: string[], bIds: string[], group?: PsiGroup): Promise<string[]> {
  const a = party(aIds, 'alice', 'bob', 1, group);
  const b = party(bIds, 'bob', 'alice', 1, group);
  const sent: Uint8Array[] = [];
  const deliver = async (to: PsiParty, message: PsiMessage) => {
    const bytes = encodePsiMessage(message);
    sent.push(bytes);
    const replies = await to.receive(decodePsiMessage(bytes, to.party, to.peer));
    for (const reply of replies) await deliver(to === a ? b : a, reply);
  };
  const [fromA, fromB] = [await a.start(), await b.start()];
  await deliver(b, fromA);
  await deliver(a, fromB);
  return sent.map(bytesToHex);
}

/** What a leak of `id` could look like: its hash's encoding and the u-coordinate made of it. */
function hashesOf(id: string): Uint8Array[] {
  const encoding = ristretto255_hasher.hashToCurve(utf8(id), { DST: PSI_DST }).toBytes();
  return [encoding, squareModPrime(encoding)];
}

let workers: WorkerGroup;
before(async () => (workers = await startWorkerGroup({ threads: 2 })));
after(() => workers.close());

describe('PSI', () => {
  it('both parties learn exactly the intersection, in the same order (property)', async () => {
    // Ids drawn from a small alphabet so that intersections are frequent; any unicode allowed.
    const idSet = fc.uniqueArray(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('é')), {
      maxLength: 12,
    });
    await fc.assert(
      fc.asyncProperty(idSet, idSet, fc.integer(), async (aIds, bIds, seed) => {
        const run = await simulatePsi(
          { name: 'a', ids: aIds, random: seededRandom(seed, 'a') },
          { name: 'b', ids: bIds, random: seededRandom(seed, 'b') },
        );
        const [a, b] = run.results;
        const expected = aIds.filter((id) => bIds.includes(id)).sort();
        assert.deepEqual([...a.ids].sort(), expected);
        assert.deepEqual(b.ids, a.ids, 'aligned order agreed');
        assert.deepEqual(
          a.indices.map((i) => aIds[i]),
          a.ids,
        );
        assert.deepEqual(
          b.indices.map((i) => bIds[i]),
          b.ids,
        );
        assert.equal(a.peerCount, bIds.length);
        assert.equal(b.peerCount, aIds.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('messages carry only blinded values: no id, its bytes or its hash', async () => {
    const ids = ['patient-0001', 'patient-0002', 'patient-0003'];
    const sent = await transcript(ids, ['patient-0002', 'patient-0004']);
    const needles = ids.flatMap((id) => [utf8(id), ...hashesOf(id)]);
    const wire = sent.join('|');
    for (const needle of needles) assert.ok(!wire.includes(bytesToHex(needle)));
    // Each message is the protobuf envelope (tag + length) around whole points, nothing else.
    for (const hex of sent) assert.ok((hex.length / 2 - 2) % ELEMENT_BYTES === 0, hex);
  });

  it('sends the same bytes whichever group implementation computes them', async () => {
    const [aIds, bIds] = [
      ['1', '2', '3', 'x'],
      ['2', 'x', 'y'],
    ];
    const reference = await transcript(aIds, bIds, nobleGroup);
    assert.deepEqual(await transcript(aIds, bIds, await sodiumGroup()), reference);
    assert.deepEqual(await transcript(aIds, bIds, workers), reference);
    assert.deepEqual(await transcript(aIds, bIds), reference, 'the default group');
  });

  it('aligns a set large enough to be split over worker threads', async () => {
    const all = Array.from({ length: 700 }, (_, i) => `user-${i}`);
    const [aIds, bIds] = [all.slice(0, 600), all.slice(100)];
    const run = await simulatePsi(
      { name: 'a', ids: aIds, random: seededRandom(4, 'a') },
      { name: 'b', ids: bIds, random: seededRandom(4, 'b') },
      { group: workers },
    );
    assert.deepEqual([...run.results[0].ids].sort(), all.slice(100, 600).sort());
    assert.deepEqual(run.results[1].ids, run.results[0].ids);
  });

  it('wipes its scalar once both of its multiplications are done', async () => {
    const seen: Uint8Array[] = [];
    const spy: PsiGroup = {
      name: 'spy',
      hashAndMultiply: (ids, scalar, dst) => (
        seen.push(scalar),
        nobleGroup.hashAndMultiply(ids, scalar, dst)
      ),
      multiply: (points, scalar) => (seen.push(scalar), nobleGroup.multiply(points, scalar)),
    };
    const a = party(['1', '2'], 'alice', 'bob', 1, spy);
    const b = party(['2', '3'], 'bob', 'alice', 1, spy);
    const fromA = await a.start();
    assert.ok(
      (seen[0] as Uint8Array).some((byte) => byte !== 0),
      'still needed for the peer set',
    );
    await a.receive(await b.start());
    await b.receive(fromA);
    assert.equal(seen.length, 4);
    for (const scalar of seen) assert.ok(scalar.every((byte) => byte === 0));
  });

  it('refuses a step that is already under way', async () => {
    const a = party(['1', '2'], 'alice', 'bob');
    const first = a.start();
    await assert.rejects(a.start(), /already started/);
    const peer = await party(['3'], 'bob', 'alice').start();
    const answering = a.receive(peer);
    await assert.rejects(a.receive(peer), /second blinded set/);
    await Promise.all([first, answering]);
  });

  it('sends its blinded set in a random order', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => `id-${i}`);
    const blinded = (await party(ids, 'alice', 'bob', 7).start()).points;
    // White box: the party's first draw from its random source is its scalar.
    const scalar = randomScalar(seededRandom(7, 'alice'));
    const expected = bytesToHex(await nobleGroup.hashAndMultiply(ids, scalar));
    const positions = ids.map((_, i) => {
      const hex = expected.slice(i * 2 * ELEMENT_BYTES, (i + 1) * 2 * ELEMENT_BYTES);
      return bytesToHex(blinded).indexOf(hex) / (2 * ELEMENT_BYTES);
    });
    assert.deepEqual(
      [...positions].sort((x, y) => x - y),
      ids.map((_, i) => i),
    );
    assert.notDeepEqual(
      positions,
      ids.map((_, i) => i),
    );
  });

  it('refuses duplicate ids, naming the party', () => {
    assert.throws(
      () => party(['x', 'y', 'x']),
      (error) =>
        error instanceof VerticalInputError && /alice: id "x" at 0 and 2/.test(error.message),
    );
  });

  it('refuses invalid, small-order, repeated and ragged points, naming the peer, and keeps its state', async () => {
    const b = party(['1', '2'], 'bob', 'alice');
    const valid = (await party(['p', 'q'], 'alice', 'bob').start()).points;
    const withPoint = (point: Uint8Array) => {
      const points = valid.slice();
      points.set(point, ELEMENT_BYTES);
      return points;
    };
    const nonCanonical = new Uint8Array(ELEMENT_BYTES).fill(0xff); // not reduced mod p
    // The same element in disguise: 1/u is the u-coordinate of the point plus (0, 0), of order 2.
    const u = bytesToNumberLE(valid.subarray(0, ELEMENT_BYTES));
    const disguised = numberToBytesLE(invert(u, 2n ** 255n - 19n), ELEMENT_BYTES);
    const cases: [Uint8Array, RegExp][] = [
      [withPoint(nonCanonical), /point 1 is not a canonical u-coordinate/],
      [withPoint(new Uint8Array(ELEMENT_BYTES)), /point 1 is of small order/],
      [withPoint(valid.subarray(0, ELEMENT_BYTES)), /point 1 repeats point 0/],
      [withPoint(disguised), /point 1 repeats point 0/],
      [valid.subarray(0, 40), /40 bytes is not a whole number/],
    ];
    for (const [points, pattern] of cases) {
      await assert.rejects(
        b.receive({ kind: 'blinded', points }),
        (error) =>
          error instanceof PeerError && error.peer === 'alice' && pattern.test(error.message),
      );
    }
    // Nothing was recorded: the genuine set is still accepted afterwards.
    assert.equal((await b.receive({ kind: 'blinded', points: valid })).length, 1);
    await assert.rejects(b.receive({ kind: 'blinded', points: valid }), /second blinded set/);
  });

  it('refuses a double-blinded set out of order or of the wrong size', async () => {
    const a = party(['1', '2'], 'alice', 'bob');
    const points = new Uint8Array(2 * ELEMENT_BYTES).map((_, i) => i);
    await assert.rejects(a.receive({ kind: 'double-blinded', points }), /before this party sent/);
    await a.start();
    await assert.rejects(
      a.receive({ kind: 'double-blinded', points: points.subarray(0, ELEMENT_BYTES) }),
      /has 1 points, this party sent 2/,
    );
    assert.deepEqual(await a.receive({ kind: 'double-blinded', points }), []);
  });

  it('refuses a ragged or repeating double-blinded set and keeps its state', async () => {
    const [a, b] = [party(['1', '2', '3'], 'alice', 'bob'), party(['2', '3'], 'bob', 'alice')];
    const [fromA, fromB] = [await a.start(), await b.start()];
    await a.receive(fromB);
    const [reply] = await b.receive(fromA);
    const points = (reply as DoubleBlindedSet).points;
    const repeating = points.slice();
    repeating.set(points.subarray(0, ELEMENT_BYTES), 2 * ELEMENT_BYTES);
    await assert.rejects(
      a.receive({ kind: 'double-blinded', points: repeating }),
      (error) =>
        error instanceof PeerError &&
        /double-blinded set: point 2 repeats point 0/.test(error.message),
    );
    await assert.rejects(
      a.receive({ kind: 'double-blinded', points: points.subarray(0, 70) }),
      /double-blinded set: 70 bytes is not a whole number/,
    );
    assert.equal(a.result === undefined, true, 'no result from a refused set');
    // The genuine set is still accepted, and the intersection is right.
    await a.receive({ kind: 'double-blinded', points });
    assert.deepEqual(a.result?.ids.slice().sort(), ['2', '3']);
  });

  it('refuses malformed bytes on the wire', () => {
    assert.throws(
      () => decodePsiMessage(new Uint8Array([0x0a, 0x05, 1]), 'bob', 'alice'),
      (error) =>
        error instanceof PeerError && /bob: peer alice: malformed PSI message/.test(error.message),
    );
    assert.throws(() => decodePsiMessage(new Uint8Array(), 'bob', 'alice'), /no body/);
  });

  it('hashes with the Sepal domain separation tag, deterministically', async () => {
    const scalar = randomScalar(seededRandom(9, 'dst'));
    const blind = (id: string, dst?: string) => nobleGroup.hashAndMultiply([id], scalar, dst);
    const [a, a2, b] = await Promise.all(['a', 'a', 'b'].map((id) => blind(id)));
    assert.deepEqual(a, a2);
    assert.notDeepEqual(a, b);
    assert.deepEqual(await blind('a', PSI_DST), a);
    assert.notDeepEqual(await blind('a', 'ANOTHER-DST'), a);
    // Pinned (computed by this version, checked by the algebra tests of psi-group.test.ts): a
    // change of the DST, the hash or the byte order would silently stop two versions aligning.
    assert.equal(PSI_DST, 'SEPAL-PSI-V2-ristretto255_XMD:SHA-512_R255MAP_RO_');
    assert.equal(
      bytesToHex(scalar) + bytesToHex(a as Uint8Array),
      'c3732378af4d60a2cc168bdedc9063c694dc3749df82042f246fd7e04983873a' +
        '62c70f3c6294a3b6d122b1ed95701385c8c7782d7a1307776bd49dec0cfd2466',
    );
  });
});
