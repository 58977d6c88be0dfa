import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { seededRandom } from '../../src/crypto/random.js';
import { bytesToHex } from '../../src/crypto/bytes.js';
import { PeerError, VerticalInputError } from '../../src/vertical/errors.js';
import { decodePsiMessage, encodePsiMessage } from '../../src/vertical/psi/codec.js';
import {
  decode,
  ELEMENT_BYTES,
  encode,
  hashToGroup,
  multiply,
  randomScalar,
} from '../../src/vertical/psi/group.js';
import type { PsiMessage } from '../../src/vertical/psi/messages.js';
import { PsiParty } from '../../src/vertical/psi/party.js';
import { simulatePsi } from '../../src/vertical/psi/simulate.js';

const RUNS = Number(process.env.SEPAL_PROPERTY_RUNS ?? 8);
const party = (ids: string[], name = 'alice', peer = 'bob', seed = 1) =>
  new PsiParty(ids, { party: name, peer, random: seededRandom(seed, name) });

/** Every message of one complete run between a and b, as bytes. */
function transcript(aIds: string[], bIds: string[]): Uint8Array[] {
  const a = party(aIds, 'alice', 'bob');
  const b = party(bIds, 'bob', 'alice');
  const sent: Uint8Array[] = [];
  const deliver = (to: PsiParty, message: PsiMessage) => {
    const bytes = encodePsiMessage(message);
    sent.push(bytes);
    const replies = to.receive(decodePsiMessage(bytes, to.party, to.peer));
    for (const reply of replies) deliver(to === a ? b : a, reply);
  };
  const [fromA, fromB] = [a.start(), b.start()];
  deliver(b, fromA);
  deliver(a, fromB);
  return sent;
}

describe('PSI', () => {
  it('both parties learn exactly the intersection, in the same order (property)', () => {
    // Ids drawn from a small alphabet so that intersections are frequent; any unicode allowed.
    const idSet = fc.uniqueArray(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('é')), {
      maxLength: 12,
    });
    fc.assert(
      fc.property(idSet, idSet, fc.integer(), (aIds, bIds, seed) => {
        const run = simulatePsi(
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

  it('messages carry only group elements: no id, its bytes or its hash', () => {
    const ids = ['patient-0001', 'patient-0002', 'patient-0003'];
    const sent = transcript(ids, ['patient-0002', 'patient-0004']);
    const needles = ids.flatMap((id) => [
      new TextEncoder().encode(id),
      encode(hashToGroup(id)), // H(id) unblinded
    ]);
    const wire = sent.map((bytes) => bytesToHex(bytes)).join('|');
    for (const needle of needles) assert.ok(!wire.includes(bytesToHex(needle)));
    // Each message is the protobuf envelope (tag + length) around whole points, nothing else.
    for (const bytes of sent)
      assert.ok((bytes.length - 2) % ELEMENT_BYTES === 0, `${bytes.length}`);
  });

  it('sends its blinded set in a random order', () => {
    const ids = Array.from({ length: 16 }, (_, i) => `id-${i}`);
    const blinded = party(ids, 'alice', 'bob', 7).start().points;
    // White box: the party's first draw from its random source is its scalar.
    const scalar = randomScalar(seededRandom(7, 'alice'));
    const positions = ids.map((id) => {
      const hex = bytesToHex(encode(multiply(hashToGroup(id), scalar)));
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

  it('double blinding commutes: a·(b·P) = b·(a·P)', () => {
    const random = seededRandom(3, 'scalars');
    const [a, b] = [randomScalar(random), randomScalar(random)];
    const p = hashToGroup('x');
    assert.ok(multiply(multiply(p, a), b).equals(multiply(multiply(p, b), a)));
  });

  it('refuses duplicate ids, naming the party', () => {
    assert.throws(
      () => party(['x', 'y', 'x']),
      (error) =>
        error instanceof VerticalInputError && /alice: id "x" at 0 and 2/.test(error.message),
    );
  });

  it('refuses invalid, identity, repeated and ragged points, naming the peer, and keeps its state', () => {
    const b = party(['1', '2'], 'bob', 'alice');
    const valid = party(['p', 'q'], 'alice', 'bob').start().points;
    const withPoint = (point: Uint8Array) => {
      const points = valid.slice();
      points.set(point, ELEMENT_BYTES);
      return points;
    };
    const nonCanonical = new Uint8Array(ELEMENT_BYTES).fill(0xff); // not reduced mod p
    const cases: [Uint8Array, RegExp][] = [
      [withPoint(nonCanonical), /point 1 is not a canonical ristretto255 encoding/],
      [withPoint(new Uint8Array(ELEMENT_BYTES)), /point 1 is the identity element/],
      [withPoint(valid.subarray(0, ELEMENT_BYTES)), /point 1 repeats point 0/],
      [valid.subarray(0, 40), /40 bytes is not a whole number/],
    ];
    for (const [points, pattern] of cases) {
      assert.throws(
        () => b.receive({ kind: 'blinded', points }),
        (error) =>
          error instanceof PeerError && error.peer === 'alice' && pattern.test(error.message),
      );
    }
    // Nothing was recorded: the genuine set is still accepted afterwards.
    assert.equal(b.receive({ kind: 'blinded', points: valid }).length, 1);
    assert.throws(() => b.receive({ kind: 'blinded', points: valid }), /second blinded set/);
  });

  it('refuses a double-blinded set out of order or of the wrong size', () => {
    const a = party(['1', '2'], 'alice', 'bob');
    const points = new Uint8Array(2 * ELEMENT_BYTES).map((_, i) => i);
    assert.throws(() => a.receive({ kind: 'double-blinded', points }), /before this party sent/);
    a.start();
    assert.throws(
      () => a.receive({ kind: 'double-blinded', points: points.subarray(0, ELEMENT_BYTES) }),
      /has 1 points, this party sent 2/,
    );
    assert.doesNotThrow(() => a.receive({ kind: 'double-blinded', points }));
  });

  it('refuses malformed bytes on the wire', () => {
    assert.throws(
      () => decodePsiMessage(new Uint8Array([0x0a, 0x05, 1]), 'bob', 'alice'),
      (error) =>
        error instanceof PeerError && /bob: peer alice: malformed PSI message/.test(error.message),
    );
    assert.throws(() => decodePsiMessage(new Uint8Array(), 'bob', 'alice'), /no body/);
  });

  it('hashes with the Sepal domain separation tag, deterministically', () => {
    assert.ok(hashToGroup('a').equals(hashToGroup('a')));
    assert.ok(!hashToGroup('a').equals(hashToGroup('b')));
    assert.throws(() => decode(new Uint8Array(31)), /canonical/);
  });
});
