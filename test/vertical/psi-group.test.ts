// The PSI group's implementations against published vectors, against an independent reference
// (noble's Edwards arithmetic) and against each other: the parties of one alignment may run
// different ones (a browser on noble or libsodium, a server on worker threads), so they must agree
// byte for byte.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import sodium from 'libsodium-wrappers-sumo';
import { ed25519, ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import type { EdwardsPoint } from '@noble/curves/abstract/edwards.js';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes as h, utf8 } from '../../src/crypto/bytes.js';
import { nativeKernels } from '../../src/crypto/native-kernels.js';
import { seededRandom } from '../../src/crypto/random.js';
import {
  ELEMENT_BYTES,
  InvalidPointError,
  PSI_DST,
  type PsiGroup,
  randomScalar,
  type Scalar,
} from '../../src/vertical/psi/group.js';
import { squareModPrime } from '../../src/vertical/psi/field25519.js';
import { batchesOn, nativeBatches } from '../../src/vertical/psi/native-batches.js';
import { nobleGroup } from '../../src/vertical/psi/noble-group.js';
import { groupOf, sodiumGroup } from '../../src/vertical/psi/sodium-group.js';
import { startWorkerGroup, type WorkerGroup } from '../../src/vertical/psi/worker-group.js';
import { createHandlers, MULTIPLY } from '../../src/vertical/psi/worker-handlers.js';

const RUNS = Number(process.env.SEPAL_PROPERTY_RUNS ?? 8);

// RFC 9496 Appendix A.3: the one-way map (64 uniform bytes -> element). The inputs are SHA-512
// of these labels (checked below, which also checks the transcription).
const ONE_WAY_MAP: [label: string, input: string, output: string][] = [
  [
    'Ristretto is traditionally a short shot of espresso coffee',
    '5d1be09e3d0c82fc538112490e35701979d99e06ca3e2b5b54bffe8b4dc772c14d98b696a1bbfb5ca32c436cc61c16563790306c79eaca7705668b47dffe5bb6',
    '3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46',
  ],
  [
    'made with the normal amount of ground coffee but extracted with',
    'f116b34b8f17ceb56e8732a60d913dd10cce47a6d53bee9204be8b44f6678b270102a56902e2488c46120e9276cfe54638286b9e4b3cdb470b542d46c2068d38',
    'f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b',
  ],
  [
    'about half the amount of water in the same amount of time',
    '8422e1bbdaab52938b81fd602effb6f89110e1e57208ad12d9ad767e2e25510c27140775f9337088b982d83d7fcf0b2fa1edffe51952cbe7365e95c86eaf325c',
    '006ccd2a9e6867e6a2c5cea83d3302cc9de128dd2a9a57dd8ee7b9d7ffe02826',
  ],
  [
    'by using a finer grind.',
    'ac22415129b61427bf464e17baee8db65940c233b98afce8d17c57beeb7876c2150d15af1cb1fb824bbd14955f2b57d08d388aab431a391cfc33d5bafb5dbbaf',
    'f8f0c87cf237953c5890aec3998169005dae3eca1fbb04548c635953c817f92a',
  ],
  [
    'This produces a concentrated shot of coffee per volume.',
    '165d697a1ef3d5cf3c38565beefcf88c0f282b8e7dbd28544c483432f1cec7675debea8ebb4e5fe7d6f6e5db15f15587ac4d4d4a1de7191e0c1ca6664abcc413',
    'ae81e7dedf20a497e10c304a765c1767a42d6e06029758d2d7e8ef7cc4c41179',
  ],
  [
    'Just pulling a normal shot short will produce a weaker shot',
    'a836e6c9a9ca9f1e8d486273ad56a78c70cf18f0ce10abb1c7172ddd605d7fd2979854f47ae1ccf204a33102095b4200e5befc0465accc263175485f0e17ea5c',
    'e2705652ff9f5e44d3e841bf1c251cf7dddb77d140870d1ab2ed64f1a9ce8628',
  ],
  [
    'and is not a Ristretto as some believe.',
    '2cdc11eaeb95daf01189417cdddbf95952993aa9cb9c640eb5058d09702c74622c9965a697a3b345ec24ee56335b556e677b30e6f90ac77d781064f866a3c982',
    '80bd07262511cdde4863f8a7434cef696750681cb9510eea557088f76d9e5065',
  ],
];

// RFC 9496 Appendix A.3, second part: four inputs that the map sends to one element.
const ONE_WAY_MAP_COLLISIONS = [
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1200000000000000000000000000000000000000000000000000000000000000',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  '0000000000000000000000000000000000000000000000000000000000000080ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '00000000000000000000000000000000000000000000000000000000000000001200000000000000000000000000000000000000000000000000000000000080',
];
const ONE_WAY_MAP_COLLISION = '304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f';

// u-coordinates every implementation refuses: not below p (p itself, p + 1, 2^255 - 1, and
// RFC 7748 §5.2's second input u, whose top bit is set), and the five of small order (RFC 7748
// §7; cr.yp.to/ecdh.html#validate), which X25519 sends to zero.
const P = 2n ** 255n - 19n;
const le = (value: bigint) => bytesToHex(numberToBytesLE(value, 32));
const NOT_CANONICAL = [
  le(P),
  le(P + 1n),
  le(2n ** 255n - 1n),
  'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
];
const SMALL_ORDER = [
  0n,
  1n,
  P - 1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
].map(le);

// RFC 7748: §5.2's first vector, and §6.1's key exchange (X25519(a, 9), X25519(b, 9), and the
// shared secret X25519(a, X25519(b, 9))): [scalar, u, product].
const X25519_VECTORS: [string, string, string][] = [
  [
    'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  ],
  [
    '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
    le(9n),
    '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  ],
  [
    '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
    le(9n),
    'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  ],
  [
    '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
    'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  ],
];

// RFC 9497 Appendix A.1.1, OPRF(ristretto255, SHA-512), mode 0x00: BlindedElement is
// Blind·HashToGroup(Input), HashToGroup being hash_to_ristretto255 with the DST below. RFC 9380
// itself publishes no vectors for hash_to_ristretto255 (its Appendix B defines it; Appendix J
// covers only the curve suites), so these are the published vectors for the hash.
const OPRF_DST = 'HashToGroup-OPRFV1-\x00-ristretto255-SHA512';
const OPRF_BLIND = '64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706';
const OPRF: [input: string, blinded: string][] = [
  ['\x00', '609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c'],
  ['Z'.repeat(17), 'da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418'], // 5a × 17
];

const concat = (hexes: string[]) => h(hexes.join(''));

type Ristretto = InstanceType<typeof ristretto255.Point>;
const ORDER = ristretto255.Point.Fn.ORDER;

/** RFC 7748's decodeScalar25519: the scalar X25519 multiplies by. */
function clamped(scalar: Scalar): bigint {
  const bytes = scalar.slice();
  bytes[0] = (bytes[0] as number) & 248;
  bytes[31] = ((bytes[31] as number) & 127) | 64;
  return bytesToNumberLE(bytes);
}

/**
 * u(c·R) computed without the group module's shortcut: noble decodes R to an Edwards point (its
 * own representative, whatever its small-order part), multiplies by c = clamped(scalar) (as 8,
 * then c/8 modulo the order: noble takes scalars below it), and maps the product to Curve25519.
 */
function reference(element: Ristretto, scalar: Scalar): string {
  const edwards = (element as unknown as { ep: EdwardsPoint }).ep;
  const product = edwards.multiplyUnsafe(8n).multiply((clamped(scalar) / 8n) % ORDER);
  return bytesToHex(ed25519.utils.toMontgomery(product.toBytes()));
}

const hashed = (id: string, dst = PSI_DST) =>
  ristretto255_hasher.hashToCurve(utf8(id), { DST: dst }) as Ristretto;

const deriveToCurve = ristretto255_hasher.deriveToCurve as NonNullable<
  typeof ristretto255_hasher.deriveToCurve
>;

describe('PSI group: the one-way map (RFC 9496 A.3)', () => {
  before(() => sodium.ready);

  it('the published inputs are SHA-512 of the published labels', () => {
    for (const [label, input] of ONE_WAY_MAP) {
      assert.equal(createHash('sha512').update(label).digest('hex'), input);
    }
  });

  it("libsodium's crypto_core_ristretto255_from_hash and noble's deriveToCurve give the outputs", () => {
    const cases = [
      ...ONE_WAY_MAP.map(([, input, output]) => [input, output] as const),
      ...ONE_WAY_MAP_COLLISIONS.map((input) => [input, ONE_WAY_MAP_COLLISION] as const),
    ];
    for (const [input, output] of cases) {
      assert.equal(bytesToHex(sodium.crypto_core_ristretto255_from_hash(h(input))), output);
      assert.equal(bytesToHex(deriveToCurve(h(input)).toBytes()), output);
    }
  });
});

// RFC 9380 Appendix K.3, expand_message_xmd(SHA-512), all ten: [msg, len_in_bytes, uniform_bytes].
const XMD_DST = 'QUUX-V01-CS02-with-expander-SHA512-256';
const [Q128, A512] = [`q128_${'q'.repeat(128)}`, `a512_${'a'.repeat(512)}`];
const XMD: [string, number, string][] = [
  ['', 0x20, '6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba'],
  ['abc', 0x20, '0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc'],
  ['abcdef0123456789', 0x20, '087e45a86e2939ee8b91100af1583c4938e0f5fc6c9db4b107b83346bc967f58'],
  [Q128, 0x20, '7336234ee9983902440f6bc35b348352013becd88938d2afec44311caf8356b3'],
  [A512, 0x20, '57b5f7e766d5be68a6bfe1768e3c2b7f1228b3e4b3134956dd73a59b954c66f4'],
  [
    '',
    0x80,
    '41b037d1734a5f8df225dd8c7de38f851efdb45c372887be655212d07251b921b052b62eaed99b46f72f2ef4cc96bf' +
      'af254ebbbec091e1a3b9e4fb5e5b619d2e0c5414800a1d882b62bb5cd1778f098b8eb6cb399d5d9d18f5d5842cf5' +
      'd13d7eb00a7cff859b605da678b318bd0e65ebff70bec88c753b159a805d2c89c55961',
  ],
  [
    'abc',
    0x80,
    '7f1dddd13c08b543f2e2037b14cefb255b44c83cc397c1786d975653e36a6b11bdd7732d8b38adb4a0edc26a0cef4b' +
      'b45217135456e58fbca1703cd6032cb1347ee720b87972d63fbf232587043ed2901bce7f22610c0419751c065922' +
      'b488431851041310ad659e4b23520e1772ab29dcdeb2002222a363f0c2b1c972b3efe1',
  ],
  [
    'abcdef0123456789',
    0x80,
    '3f721f208e6199fe903545abc26c837ce59ac6fa45733f1baaf0222f8b7acb0424814fcb5eecf6c1d38f06e9d0a6cc' +
      'fbf85ae612ab8735dfdf9ce84c372a77c8f9e1c1e952c3a61b7567dd0693016af51d2745822663d0c2367e3f4f0b' +
      'ed827feecc2aaf98c949b5ed0d35c3f1023d64ad1407924288d366ea159f46287e61ac',
  ],
  [
    Q128,
    0x80,
    'b799b045a58c8d2b4334cf54b78260b45eec544f9f2fb5bd12fb603eaee70db7317bf807c406e26373922b7b8920fa' +
      '29142703dd52bdf280084fb7ef69da78afdf80b3586395b433dc66cde048a258e476a561e9deba7060af40adf30c' +
      '64249ca7ddea79806ee5beb9a1422949471d267b21bc88e688e4014087a0b592b695ed',
  ],
  [
    A512,
    0x80,
    '05b0bfef265dcee87654372777b7c44177e2ae4c13a27f103340d9cd11c86cb2426ffcad5bd964080c2aee97f03be1' +
      'ca18e30a1f14e27bc11ebbd650f305269cc9fb1db08bf90bfc79b42a952b46daf810359e7bc36452684784a64952' +
      'c343c52e5124cd1f71d474d5197fefc571a92929c9084ffe1112cf5eea5192ebff330b',
  ],
];

describe("PSI group: the addon's expand_message_xmd over the system libsodium", () => {
  const expand = nativeKernels?.expandMessageXmdSha512;

  it('gives RFC 9380 K.3 outputs', (t) => {
    if (expand === undefined) return t.diagnostic('no system libsodium here');
    for (const [message, length, uniform] of XMD) {
      const out = new Uint8Array(length);
      expand(utf8(message), utf8(XMD_DST), out);
      assert.equal(bytesToHex(out), uniform);
    }
  });

  it("agrees with @noble/curves' for any message, tag (oversize ones too) and length", (t) => {
    if (expand === undefined) return t.diagnostic('no system libsodium here');
    fc.assert(
      fc.property(
        // size 'max': fast-check's default size stops at a dozen bytes, short of the oversize-tag
        // rule (> 255 bytes) and of messages past one SHA-512 block.
        fc.uint8Array({ maxLength: 600, size: 'max' }),
        fc.uint8Array({ minLength: 1, maxLength: 600, size: 'max' }),
        fc.oneof(fc.integer({ min: 1, max: 700 }), fc.constantFrom(16319, 16320)),
        (message, dst, length) => {
          const out = new Uint8Array(length);
          expand(message, dst, out);
          assert.deepEqual(out, expand_message_xmd(message, dst, length, sha512));
        },
      ),
      { numRuns: 10 * RUNS },
    );
  });
});

describe('PSI group: hash_to_ristretto255', () => {
  it("noble's, and the addon's, give RFC 9497 A.1.1's blinded elements", (t) => {
    const blind = bytesToNumberLE(h(OPRF_BLIND));
    for (const [input, blinded] of OPRF) {
      assert.equal(bytesToHex(hashed(input, OPRF_DST).multiply(blind).toBytes()), blinded);
    }
    const hash = nativeKernels?.ristrettoHash;
    if (hash === undefined) return t.diagnostic('no system libsodium here');
    const messages = utf8(OPRF.map(([input]) => input).join(''));
    const out = new Uint8Array(OPRF.length * ELEMENT_BYTES);
    hash(messages, new Uint32Array([1, 18]), utf8(OPRF_DST), out);
    OPRF.forEach(([, blinded], i) => {
      const element = ristretto255.Point.fromBytes(out.subarray(32 * i, 32 * (i + 1)));
      assert.equal(bytesToHex(element.multiply(blind).toBytes()), blinded);
    });
  });
});

// Both squarings: the addon's, in C, and the portable groups', in JavaScript.
const squarings: [
  name: string,
  square: ((values: Uint8Array, out: Uint8Array) => void) | undefined,
][] = [
  ['addon', nativeKernels?.fieldSquare25519],
  [
    'field25519.ts',
    (values, out) => {
      for (let at = 0; at < values.length; at += 32) {
        squareModPrime(values.subarray(at, at + 32), out.subarray(at, at + 32));
      }
    },
  ],
];

for (const [name, square] of squarings) {
  describe(`PSI group: squaring modulo 2^255 - 19 (${name})`, () => {
    const check = (values: bigint[]) => {
      const bytes = h(values.map(le).join(''));
      const out = new Uint8Array(bytes.length);
      square?.(bytes, out);
      square?.(bytes, bytes); // in place, the way the groups call it
      assert.deepEqual(bytes, out);
      values.forEach((value, i) => {
        assert.equal(bytesToHex(out.subarray(32 * i, 32 * (i + 1))), le((value * value) % P));
      });
    };

    it('squares the edge cases: around p, 2^255 and 2^256, and the largest carries', (t) => {
      if (square === undefined) return t.diagnostic('no addon here');
      const edges = [0n, 1n, 2n, 19n, P - 1n, P, P + 1n, 2n ** 255n - 1n, 2n ** 255n];
      const roots = [2n ** 128n, (P + 1n) / 2n, 2n ** 256n - 1n, 2n ** 256n - 2n, 2n ** 64n - 1n];
      // The same with the top bit set: inputs that are not field elements are squared too.
      const high = edges.filter((e) => e < 2n ** 255n).map((e) => e + 2n ** 255n);
      // Squares just below and above multiples of p, where the final subtraction decides.
      const nearMultiples = [1n, 2n, 3n].flatMap((k) => {
        const root = sqrtFloor(k * P);
        return [root - 1n, root, root + 1n];
      });
      check([...edges, ...roots, ...high, ...nearMultiples]);
    });

    it('squares any 32-byte number, as BigInts do (property)', (t) => {
      if (square === undefined) return t.diagnostic('no addon here');
      fc.assert(
        fc.property(
          fc.array(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), { minLength: 1, maxLength: 20 }),
          check,
        ),
        { numRuns: 100 * RUNS },
      );
    });
  });
}

/** ⌊√n⌋ by Newton's method. */
function sqrtFloor(n: bigint): bigint {
  let x = n;
  for (let y = (x + 1n) / 2n; y < x; y = (x + n / x) / 2n) x = y;
  return x;
}

describe("PSI group: the addon's squaring, its arguments", () => {
  it('refuses ragged or mismatched arrays, naming them', (t) => {
    const square = nativeKernels?.fieldSquare25519;
    if (square === undefined) return t.diagnostic('no addon here');
    const call =
      (...args: unknown[]) =>
      () =>
        (square as (...a: unknown[]) => void)(...args);
    assert.throws(call(new Uint8Array(33), new Uint8Array(33)), /values must be .* 32-byte/);
    assert.throws(call(new Uint8Array(32), new Uint8Array(64)), /out must be .* as long as values/);
    assert.throws(call(new Uint8Array(32)), /takes 2 arguments/);
  });
});

let workers: WorkerGroup;
let groups: PsiGroup[];

describe('PSI group implementations', () => {
  before(async () => {
    // Two threads even on a one-core machine, so that batches really are split.
    workers = await startWorkerGroup({ threads: 2 });
    groups = [nobleGroup, await sodiumGroup(), workers];
    if (nativeBatches !== undefined) groups.push(groupOf(nativeBatches));
  });
  after(() => workers.close());

  // CI installs libsodium23; a machine with the library but without the native group is a broken
  // build, which would quietly cost the PSI more than half its speed.
  it('include the native batches wherever the addon can open libsodium', () => {
    const installed = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].some(
      (dir) => existsSync(`${dir}/libsodium.so.23`) || existsSync(`${dir}/libsodium.so.26`),
    );
    if (installed && process.env['SEPAL_NATIVE'] !== '0') {
      assert.ok(nativeBatches, 'libsodium is installed but the native group is missing');
      assert.match(workers.name, /^native on 2 worker threads$/);
    }
  });

  it('multiply as RFC 7748 publishes (each implementation)', async () => {
    for (const group of groups) {
      for (const [scalar, u, product] of X25519_VECTORS) {
        assert.equal(bytesToHex(await group.multiply(h(u), h(scalar))), product, group.name);
      }
      // §5.2's second vector, its input's top bit cleared as X25519 itself clears it.
      const u = h(NOT_CANONICAL[3] as string);
      u[31] = (u[31] as number) & 0x7f;
      const scalar = h('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d');
      assert.equal(
        bytesToHex(await group.multiply(u, scalar)),
        '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
        group.name,
      );
    }
  });

  it("compute u(c·H(id)) and u(c′·c·H(id)), as noble's Edwards arithmetic does (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ maxLength: 8, unit: 'grapheme' }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (ids, a, b) => {
          const elements = ids.map((id) => hashed(id));
          const once = elements.map((element) => reference(element, a)).join('');
          const twice = elements
            .map((element) => reference(element.multiply(clamped(a) % ORDER), b))
            .join('');
          for (const group of groups) {
            const blinded = await group.hashAndMultiply(ids, a);
            assert.equal(bytesToHex(blinded), once, group.name);
            assert.equal(bytesToHex(await group.multiply(blinded, b)), twice, group.name);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('agree byte for byte on hashing, blinding and double blinding (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ maxLength: 8, unit: 'grapheme' }), { maxLength: 6 }),
        fc.integer(),
        async (ids, seed) => {
          const random = seededRandom(seed, 'scalars');
          const [a, b] = [randomScalar(random), randomScalar(random)];
          const blinded = await Promise.all(groups.map((g) => g.hashAndMultiply(ids, a)));
          const hex = blinded.map(bytesToHex);
          assert.equal(
            new Set(hex).size,
            1,
            `hashAndMultiply differs: ${groups.map((g) => g.name)}`,
          );
          // b·(a·H(x)) by each implementation, and a·(b·H(x)) across implementations.
          const doubled = await Promise.all(
            groups.map((g, i) => g.multiply(blinded[i] as Uint8Array, b)),
          );
          const other = await nobleGroup.multiply(await workers.hashAndMultiply(ids, b), a);
          assert.equal(new Set([...doubled, other].map(bytesToHex)).size, 1, 'double blinding');
          assert.equal((blinded[0] as Uint8Array).length, ids.length * ELEMENT_BYTES);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('agree on any canonical u-coordinate, on the curve or its twist (property)', async () => {
    const canonical = fc
      .bigInt({ min: 2n, max: P - 2n })
      .filter((u) => !SMALL_ORDER.includes(le(u)))
      .map((u) => h(le(u)));
    await fc.assert(
      fc.asyncProperty(
        fc.array(canonical, { minLength: 1, maxLength: 4 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (points, scalar) => {
          const batch = h(points.map(bytesToHex).join(''));
          const products = await Promise.all(groups.map((g) => g.multiply(batch, scalar)));
          assert.equal(new Set(products.map(bytesToHex)).size, 1);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('hash every id as its UTF-8 bytes: empty, astral, lone surrogates (as U+FFFD)', async () => {
    const ids = ['', '\u{1F600}', 'a\uD800b', '\uDC00', 'é', '\uD83D'];
    const scalar = randomScalar(seededRandom(3, 'utf-8'));
    const expected = bytesToHex(await nobleGroup.hashAndMultiply(ids, scalar));
    for (const group of groups) {
      assert.equal(bytesToHex(await group.hashAndMultiply(ids, scalar)), expected, group.name);
    }
    // A lone surrogate hashes as U+FFFD, as TextEncoder encodes it.
    assert.deepEqual(
      await nobleGroup.hashAndMultiply(['a\uFFFDb'], scalar),
      await nobleGroup.hashAndMultiply(['a\uD800b'], scalar),
    );
  });

  it('agree on a batch large enough to be split over the workers, in order', async () => {
    const ids = Array.from({ length: 1100 }, (_, i) => `user-${i}`);
    const scalar = randomScalar(seededRandom(5, 'batch'));
    const sodiumOnly = await sodiumGroup();
    const single = await sodiumOnly.hashAndMultiply(ids, scalar);
    assert.deepEqual(await workers.hashAndMultiply(ids, scalar), single);
    assert.deepEqual(
      await workers.multiply(single, scalar),
      await sodiumOnly.multiply(single, scalar),
    );
  });

  it('refuse exactly the u-coordinates libsodium itself finds of small order', () => {
    // Independently of group.ts's list: X25519 by libsodium (WebAssembly) refuses a zero product.
    const scalar = randomScalar(seededRandom(6, 'small'));
    for (const u of SMALL_ORDER) {
      assert.throws(() => sodium.crypto_scalarmult(scalar, h(u)), Error, u);
    }
    for (const u of [2n, 9n, P - 2n])
      assert.doesNotThrow(() => sodium.crypto_scalarmult(scalar, h(le(u))));
  });

  it('refuse u-coordinates that are not canonical or are of small order, naming the point', async () => {
    const scalar = randomScalar(seededRandom(1, 'bad'));
    const good = bytesToHex(await nobleGroup.hashAndMultiply(['x'], scalar));
    const cases = [
      ...NOT_CANONICAL.map((bad) => [bad, 'not a canonical u-coordinate'] as const),
      ...SMALL_ORDER.map((bad) => [bad, 'of small order'] as const),
    ];
    for (const group of groups) {
      for (const [bad, reason] of cases) {
        await assert.rejects(
          group.multiply(concat([good, bad]), scalar),
          (error) =>
            error instanceof InvalidPointError && error.index === 1 && error.reason === reason,
          `${group.name} accepted ${bad}`,
        );
      }
    }
  });

  it('the worker threads report the first refused point by its index in the whole batch', async () => {
    const scalar = randomScalar(seededRandom(2, 'bad'));
    const points = await workers.hashAndMultiply(
      Array.from({ length: 1000 }, (_, i) => `${i}`),
      scalar,
    );
    points.set(h(NOT_CANONICAL[0] as string), 700 * ELEMENT_BYTES); // in a later chunk
    points.set(new Uint8Array(ELEMENT_BYTES), 900 * ELEMENT_BYTES);
    await assert.rejects(workers.multiply(points, scalar), {
      message: 'point 700 is not a canonical u-coordinate',
    });
  });

  it('refuse scalars of the wrong length, and ragged batches', async () => {
    const point = await nobleGroup.hashAndMultiply(['x'], randomScalar());
    for (const group of groups) {
      for (const scalar of [new Uint8Array(31), new Uint8Array(33)]) {
        await assert.rejects(
          group.multiply(point, scalar),
          /scalar: expected 32 bytes/,
          group.name,
        );
        await assert.rejects(group.hashAndMultiply(['x'], scalar), RangeError, group.name);
      }
      await assert.rejects(group.multiply(point.subarray(0, 31), randomScalar()), /31 bytes/);
    }
  });
});

describe('PSI native batches', () => {
  it('wipe the ids and their hashes after a batch, whether it succeeds or fails', (t) => {
    const { ristrettoHash, fieldSquare25519, x25519 } = nativeKernels ?? {};
    if (!ristrettoHash || !fieldSquare25519 || !x25519) return t.diagnostic('no native group here');
    for (const failing of [false, true]) {
      const seen: Uint8Array[] = [];
      const batches = batchesOn({
        ristrettoHash: (messages, ends, dst, out) => {
          seen.push(messages, out);
          ristrettoHash(messages, ends, dst, out);
        },
        fieldSquare25519,
        x25519: (scalar, points, out) => {
          assert.ok(
            seen.every((bytes) => bytes.some((byte) => byte !== 0)),
            'not wiped early',
          );
          if (failing) throw new Error('X25519 failed');
          return x25519(scalar, points, out);
        },
      });
      const run = () => batches.hashAndMultiply(['alice', 'bob'], randomScalar(), PSI_DST);
      if (failing) assert.throws(run, /X25519 failed/);
      else assert.equal(run().length, 2 * ELEMENT_BYTES);
      assert.equal(seen.length, 2);
      for (const bytes of seen) assert.ok(bytes.every((byte) => byte === 0));
    }
  });
});

describe('PSI worker handlers', () => {
  it('wipe their copy of the scalar, whether the batch succeeds or is refused', async () => {
    const handlers = await createHandlers();
    const multiply = handlers[MULTIPLY] as (task: unknown) => unknown;
    const good = await nobleGroup.hashAndMultiply(['x'], randomScalar());
    for (const points of [good, new Uint8Array(ELEMENT_BYTES)]) {
      const scalar = randomScalar();
      if (points === good) multiply({ points, scalar });
      else assert.throws(() => multiply({ points, scalar }), InvalidPointError);
      assert.ok(scalar.every((byte) => byte === 0));
    }
  });
});
