import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { isSmallOrderKey } from '../../src/crypto/agreement.js';
import { nodeBackend } from '../../src/crypto/backend-node.js';
import { hexToBytes } from '../../src/crypto/bytes.js';
import { seededRandom } from '../../src/crypto/random.js';
import {
  decodeClientMessage,
  decodeServerMessage,
  encodeClientMessage,
  encodeServerMessage,
} from '../../src/secagg/codec.js';
import { InputError, ParameterError, ProtocolError } from '../../src/secagg/errors.js';
import * as pb from '../../src/gen/sepal/secagg/v1/secagg_pb.js';
import { drawGraph } from '../../src/secagg/graph.js';
import { pack, unpack } from '../../src/secagg/packing.js';
import { decodeRelayedClientBody } from '../../src/secagg/relay-decoding.js';
import { resolveRoundParams } from '../../src/secagg/params.js';
import { quantizeWeighted, stochasticQuantizer } from '../../src/secagg/quantize.js';

/** protobuf-es's encoding of a server or client message with `body`: the reference. */
const serverBytes = (body: pb.ServerMessage['body']) =>
  toBinary(pb.ServerMessageSchema, create(pb.ServerMessageSchema, { body }));
const clientBytes = (body: pb.ClientMessage['body']) =>
  toBinary(pb.ClientMessageSchema, create(pb.ClientMessageSchema, { body }));

describe('parameters', () => {
  const fails = (options: Parameters<typeof resolveRoundParams>[0], parameter: string, n = 100) =>
    assert.throws(
      () => resolveRoundParams(options, n, 10),
      (e: unknown) => e instanceof ParameterError && e.parameter === parameter,
    );

  it('name the offending option', () => {
    fails({ threshold: 25, shareNum: 51 }, 'threshold');
    fails({ shareNum: 50 }, 'shareNum');
    fails({ modRange: 3000 }, 'modRange');
    fails({ modRange: 2 ** 33 }, 'modRange');
    fails({ targetRange: 2 ** 24, maxWeight: 1 }, 'modRange', 500);
    fails({ minFrac: 1.5 }, 'minFrac');
    fails({ minNum: 0 }, 'minNum');
    fails({ clippingRange: -1 }, 'clippingRange');
    // The quantizer's slope (targetRange - 1) / (2 clippingRange) must be finite and positive.
    fails({ clippingRange: 1e308 }, 'clippingRange');
    fails({ clippingRange: 1e-310, targetRange: 2 ** 16 }, 'clippingRange', 2);
    fails({ maxWeight: 0.5 }, 'maxWeight');
  });

  it('apply the least restrictive of minNum and minFrac, and permit low thresholds only when asked', () => {
    assert.equal(resolveRoundParams({ minNum: 30, minFrac: 0.5 }, 100, 10).minClients, 30);
    assert.equal(resolveRoundParams({ minNum: 80, minFrac: 0.5 }, 100, 10).minClients, 50);
    assert.equal(
      resolveRoundParams({ shareNum: 51, threshold: 10, allowLowThreshold: true }, 100, 10)
        .threshold,
      10,
    );
  });

  it('default to SecAgg for small rounds and a modulus-safe target range', () => {
    const p = resolveRoundParams({}, 10, 10);
    assert.equal(p.shareNum, 10);
    assert.equal(p.threshold, 6);
    assert.ok(p.maxWeight * p.targetRange * 10 <= 2 ** 32);
  });
});

describe('stochastic quantizer', () => {
  const params = resolveRoundParams({ targetRange: 16, clippingRange: 1, maxWeight: 1 }, 2, 1);
  it('stays in [0, targetRange) and clips', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ minLength: 1, maxLength: 50, noNaN: true, noDefaultInfinity: true }),
        (values) => {
          const q = new Uint32Array(values.length);
          stochasticQuantizer.quantize(values, params, seededRandom(1, 'q'), q);
          q.forEach((level) => assert.ok(level < 16));
        },
      ),
    );
  });
  it('weighs in the same pass: weight x the level quantize gives, for the same coins', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ minLength: 1, maxLength: 50, noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: 0, max: 2 ** 28 - 1 }),
        (values, weight) => {
          const levels = new Uint32Array(values.length);
          stochasticQuantizer.quantize(values, params, seededRandom(2, 'w'), levels);
          const weighted = new Uint32Array(values.length);
          assert.equal(
            quantizeWeighted(values, weight, params, seededRandom(2, 'w'), weighted),
            -1,
          );
          assert.deepEqual(
            weighted,
            levels.map((level) => weight * level),
          );
        },
      ),
    );
  });
  it('names the first NaN or infinite entry', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const values = Float32Array.of(0.5, -0.25, bad, 0.1, bad);
      const out = new Uint32Array(values.length);
      assert.equal(quantizeWeighted(values, 3, params, seededRandom(3, 'n'), out), 2);
      assert.throws(
        () => stochasticQuantizer.quantize(values, params, seededRandom(3, 'n'), out),
        (error: Error) =>
          error instanceof InputError && new RegExp(`entry 2 is ${bad}`).test(error.message),
      );
    }
  });
  // floor(level + u) with u = coin x 2^-32: for the top level and the largest coins the float sum
  // rounds up to targetRange itself (4194303 + (2^32 - 1) / 2^32 is 4194304 in a double), which
  // the client would refuse, dropping itself from the round. The quantizer clamps.
  it('keeps the top level below targetRange whatever the coin', () => {
    const largest = { fill: (bytes: Uint8Array) => bytes.fill(0xff) };
    for (const [targetRange, clippingRange] of [
      [2 ** 22, 8],
      [2 ** 22, 0.001002707309736288],
      [16, 1],
    ] as const) {
      const top = resolveRoundParams({ targetRange, clippingRange, maxWeight: 1 }, 2, 1);
      const q = new Uint32Array(3);
      stochasticQuantizer.quantize(
        Float32Array.of(clippingRange, 2 * clippingRange, 0),
        top,
        largest,
        q,
      );
      assert.equal(q[0], targetRange - 1);
      assert.equal(q[1], targetRange - 1);
      assert.ok((q[2] as number) < targetRange);
    }
  });
  it('is unbiased: the mean of many roundings approaches the value', () => {
    fc.assert(
      fc.property(fc.double({ min: -1, max: 1, noNaN: true }), (x) => {
        const values = new Float32Array(20_000).fill(x);
        const q = new Uint32Array(values.length);
        stochasticQuantizer.quantize(values, params, seededRandom(x, 'unbiased'), q);
        const mean =
          stochasticQuantizer.dequantize(q, 1, params).reduce((a, b) => a + b) / values.length;
        assert.ok(Math.abs(mean - Math.fround(x)) < 0.005, `${mean} vs ${x}`);
      }),
      { numRuns: 20 },
    );
  });
});

describe('neighbour graph', () => {
  it('is symmetric, includes each client, and has shareNum neighbours (complete when shareNum >= n)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 30 }),
        fc.nat(),
        (n, h, seed) => {
          const ids = Array.from({ length: n }, (_, i) => 3 * i + 1);
          const shareNum = 2 * h + 1;
          const graph = drawGraph(ids, shareNum, seededRandom(seed, 'g'));
          for (const id of ids) {
            const neighbours = graph.get(id) ?? [];
            assert.equal(neighbours.length, Math.min(shareNum, n));
            assert.ok(neighbours.includes(id));
            for (const other of neighbours) assert.ok(graph.get(other)?.includes(id));
          }
        },
      ),
    );
  });
});

describe('packing and codec', () => {
  it('pack/unpack round-trip at every width', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (bits, raw) => {
          const values = Uint32Array.from(raw, (v) => (bits === 32 ? v : v % 2 ** bits));
          assert.deepEqual(unpack(pack(values, bits), values.length, bits), values);
        },
      ),
    );
    assert.throws(() => unpack(new Uint8Array(3), 1, 32), ProtocolError);
  });

  it('server and client messages round-trip, and garbage is a ProtocolError', () => {
    const params = resolveRoundParams({}, 10, 7);
    const roundId = new Uint8Array(16).fill(1);
    const key = new Uint8Array(32).fill(2);
    for (const m of [
      { stage: 'setup', roundId, clientId: 3, params },
      { stage: 'ask-keys' },
      { stage: 'share-keys', neighbours: [{ clientId: 1, encryptionKey: key, maskKey: key }] },
      { stage: 'ask-vectors', shares: [{ peer: 2, ciphertext: new Uint8Array([1, 2]) }] },
      { stage: 'unmask', survivors: [1, 2], dropped: [3] },
    ] as const) {
      assert.deepEqual(decodeServerMessage(encodeServerMessage(m)), m);
    }
    const vector = Uint32Array.from([5, 2 ** 32 - 1, 0]);
    const back = decodeClientMessage(
      encodeClientMessage({ stage: 'ask-vectors', vector, invalidShareSenders: [4] }, 32),
      32,
    );
    assert.deepEqual(back, { stage: 'ask-vectors', vector, invalidShareSenders: [4] });
    assert.throws(() => decodeClientMessage(new Uint8Array([0xff, 0xff, 0xff]), 32), ProtocolError);
    assert.throws(() => decodeServerMessage(new Uint8Array(0)), /no body/);
    const badKey = encodeClientMessage(
      { stage: 'ask-keys', encryptionKey: key.subarray(1), maskKey: key },
      32,
    );
    assert.throws(() => decodeClientMessage(badKey, 32), /encryptionKey must be 32 bytes/);
  });

  // The hand-written relay encoders must be byte-for-byte what protobuf-es writes for the schema,
  // zero ids and empty byte strings included (proto3 omits them).
  it('share-keys and ask-vectors relays encode exactly as protobuf-es does', () => {
    const id = fc.oneof(fc.constant(0), fc.nat());
    const bytes = fc.uint8Array({ maxLength: 90 });
    fc.assert(
      fc.property(
        fc.array(fc.record({ clientId: id, encryptionKey: bytes, maskKey: bytes }), {
          maxLength: 6,
        }),
        fc.array(fc.record({ peer: id, ciphertext: bytes }), { maxLength: 6 }),
        (neighbours, shares) => {
          const shareKeys = (list: typeof neighbours) =>
            serverBytes({
              case: 'shareKeys',
              value: create(pb.ShareKeysSchema, { neighbours: list }),
            });
          assert.deepEqual(
            encodeServerMessage({ stage: 'share-keys', neighbours }),
            shareKeys(neighbours),
          );
          // Again in another order: the entries now come from the per-client cache.
          const reordered = [...neighbours].reverse();
          assert.deepEqual(
            encodeServerMessage({ stage: 'share-keys', neighbours: reordered }),
            shareKeys(reordered),
          );
          const askVectors = serverBytes({
            case: 'askVectors',
            value: create(pb.AskVectorsSchema, {
              shares: shares.map((s) => ({ peerId: s.peer, ciphertext: s.ciphertext })),
            }),
          });
          assert.deepEqual(encodeServerMessage({ stage: 'ask-vectors', shares }), askVectors);
        },
      ),
    );
  });

  it('a masked vector encodes exactly as protobuf-es does, at every width', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.oneof(fc.constant(0), fc.nat()), { maxLength: 4 }),
        (bits, words, invalidShareSenders) => {
          const vector = Uint32Array.from(words, (w) => (bits === 32 ? w : w % 2 ** bits));
          const expected = clientBytes({
            case: 'askVectors',
            value: create(pb.MaskedVectorSchema, {
              length: vector.length,
              packed: pack(vector, bits),
              invalidShareSenders,
            }),
          });
          const message = { stage: 'ask-vectors', vector, invalidShareSenders } as const;
          assert.deepEqual(encodeClientMessage(message, bits), expected);
          assert.deepEqual(decodeClientMessage(expected, bits), message);
        },
      ),
    );
  });
});

describe('hand-read client messages', () => {
  const id = fc.oneof(fc.constant(0), fc.nat());
  const bytes = fc.uint8Array({ maxLength: 60 });
  const encryptedShares = fc
    .array(fc.record({ peerId: id, ciphertext: bytes }), { maxLength: 5 })
    .map((shares) =>
      create(pb.ClientMessageSchema, {
        body: { case: 'shareKeys', value: create(pb.EncryptedSharesSchema, { shares }) },
      }),
    );
  const secretShares = fc.array(fc.record({ ownerId: id, value: bytes }), { maxLength: 5 });
  const unmaskShares = fc.tuple(secretShares, secretShares).map(([seedShares, keyShares]) =>
    create(pb.ClientMessageSchema, {
      body: { case: 'unmask', value: create(pb.UnmaskSharesSchema, { seedShares, keyShares }) },
    }),
  );
  const messages = fc.oneof(encryptedShares, unmaskShares).map((message) => ({
    message,
    encoded: toBinary(pb.ClientMessageSchema, message),
  }));

  /** What fromBinary makes of `encoded`, in the hand decoder's shape; undefined if it throws. */
  function reference(encoded: Uint8Array) {
    let body;
    try {
      body = fromBinary(pb.ClientMessageSchema, encoded).body;
    } catch {
      return undefined;
    }
    const plain = <T extends object>(list: T[]) =>
      list.map((item) =>
        Object.fromEntries(Object.entries(item).filter(([k]) => k !== '$typeName')),
      );
    if (body.case === 'shareKeys') return { case: 'shareKeys', shares: plain(body.value.shares) };
    if (body.case === 'unmask') {
      return {
        case: 'unmask',
        seedShares: plain(body.value.seedShares),
        keyShares: plain(body.value.keyShares),
      };
    }
    return { case: body.case };
  }

  it('reads every share-keys and unmask message exactly as protobuf-es does', () => {
    fc.assert(
      fc.property(messages, ({ encoded }) => {
        assert.deepEqual(decodeRelayedClientBody(encoded), reference(encoded));
      }),
    );
  });

  // Corrupted bytes: the hand decoder either declines (fromBinary then decides) or agrees.
  it('declines or agrees on corrupted messages, and never throws', () => {
    fc.assert(
      fc.property(
        messages,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.nat(),
        ({ encoded }, edits, cut) => {
          const corrupted = encoded.slice(0, encoded.length - (cut % 3));
          for (const [at, value] of edits) {
            if (corrupted.length > 0) corrupted[at % corrupted.length] = value;
          }
          const fast = decodeRelayedClientBody(corrupted);
          if (fast !== undefined) assert.deepEqual(fast, reference(corrupted));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('leaves other messages to protobuf-es', () => {
    const vector = encodeClientMessage(
      { stage: 'ask-vectors', vector: new Uint32Array(3), invalidShareSenders: [] },
      32,
    );
    assert.equal(decodeRelayedClientBody(vector), undefined);
    assert.equal(decodeRelayedClientBody(new Uint8Array(0)), undefined);
  });
});

describe('small-order key list', () => {
  it('flags exactly the keys X25519 refuses', () => {
    const privateKey = hexToBytes(
      '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
    );
    for (const hex of [
      '0000000000000000000000000000000000000000000000000000000000000080',
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    ]) {
      const point = hexToBytes(hex);
      assert.ok(isSmallOrderKey(point), hex);
      assert.throws(() => nodeBackend.x25519(privateKey, point));
    }
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (k) => !isSmallOrderKey(nodeBackend.x25519PublicKey(k)),
      ),
    );
  });
});
