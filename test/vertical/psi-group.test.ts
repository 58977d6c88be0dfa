// The PSI group's implementations against published vectors and against each other: the parties
// of one alignment may run different ones (a browser on noble or libsodium, a server on worker
// threads), so they must agree byte for byte.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import sodium from 'libsodium-wrappers-sumo';
import { ristretto255_hasher } from '@noble/curves/ed25519.js';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes as h, utf8 } from '../../src/crypto/bytes.js';
import { nativeKernels } from '../../src/crypto/native-kernels.js';
import { seededRandom } from '../../src/crypto/random.js';
import {
  ELEMENT_BYTES,
  InvalidPointError,
  type PsiGroup,
  randomScalar,
} from '../../src/vertical/psi/group.js';
import { nobleGroup } from '../../src/vertical/psi/noble-group.js';
import { groupOf, sodiumGroup } from '../../src/vertical/psi/sodium-group.js';
import { systemSodium } from '../../src/vertical/psi/system-sodium.js';
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

// RFC 9496 Appendix A.2: encodings every implementation must refuse (non-canonical field
// elements, negative field elements, non-square x², negative xy, s = -1).
const BAD_ENCODINGS = [
  '00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20',
  'c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562',
  'c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78',
  '47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24',
  'f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72',
  '87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309',
  '26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371',
  '4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f',
  'de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b',
  'bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042',
  '2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08',
  'f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22',
  '8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731',
  '2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b',
  '3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e',
  'a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220',
  'd483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e',
  '8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32',
  '32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b',
  '227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165',
  '5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e',
  '445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

// RFC 9497 Appendix A.1.1, OPRF(ristretto255, SHA-512), mode 0x00: BlindedElement is
// Blind·HashToGroup(Input), HashToGroup being hash_to_ristretto255 with the DST below, and
// EvaluationElement is skSm·BlindedElement. RFC 9380 itself publishes no vectors for
// hash_to_ristretto255 (its Appendix B defines it; Appendix J covers only the curve suites), so
// these are the published vectors for the full hash-then-multiply path.
const OPRF_DST = 'HashToGroup-OPRFV1-\x00-ristretto255-SHA512';
const OPRF_SK = '5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e';
const OPRF_BLIND = '64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706';
const OPRF: [input: string, blinded: string, evaluated: string][] = [
  [
    '\x00',
    '609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c',
    '7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e',
  ],
  [
    'Z'.repeat(17), // 5a × 17
    'da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418',
    'b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25',
  ],
];

const concat = (hexes: string[]) => h(hexes.join(''));

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

let workers: WorkerGroup;
let groups: PsiGroup[];

describe('PSI group implementations', () => {
  before(async () => {
    // Two threads even on a one-core machine, so that batches really are split.
    workers = await startWorkerGroup({ threads: 2 });
    groups = [nobleGroup, await sodiumGroup(), workers];
    if (systemSodium !== undefined) groups.push(groupOf(systemSodium));
  });
  after(() => workers.close());

  // CI installs libsodium23; a machine with the library but without the native group is a broken
  // build, which would quietly cost the PSI half its speed.
  it('include the system libsodium wherever the addon can open it', () => {
    const installed = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].some(
      (dir) => existsSync(`${dir}/libsodium.so.23`) || existsSync(`${dir}/libsodium.so.26`),
    );
    if (installed && process.env['SEPAL_NATIVE'] !== '0') {
      assert.ok(systemSodium, 'libsodium is installed but the native group is missing');
      assert.match(workers.name, /^system libsodium on 2 worker threads$/);
    }
  });

  it('hash to the group and multiply as RFC 9497 A.1.1 publishes (each implementation)', async () => {
    for (const group of groups) {
      const blinded = await group.hashAndMultiply(
        OPRF.map(([input]) => input),
        h(OPRF_BLIND),
        OPRF_DST,
      );
      assert.equal(bytesToHex(blinded), OPRF.map(([, b]) => b).join(''), group.name);
      const evaluated = await group.multiply(blinded, h(OPRF_SK));
      assert.equal(bytesToHex(evaluated), OPRF.map(([, , e]) => e).join(''), group.name);
    }
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

  it('refuse every RFC 9496 A.2 bad encoding and the identity, naming the point', async () => {
    const scalar = randomScalar(seededRandom(1, 'bad'));
    const good = await nobleGroup.hashAndMultiply(['x'], scalar);
    for (const group of groups) {
      for (const bad of BAD_ENCODINGS) {
        await assert.rejects(
          group.multiply(concat([bytesToHex(good), bad]), scalar),
          (error) =>
            error instanceof InvalidPointError &&
            error.index === 1 &&
            error.reason === 'not a canonical ristretto255 encoding',
          `${group.name} accepted ${bad}`,
        );
      }
      await assert.rejects(group.multiply(new Uint8Array(ELEMENT_BYTES), scalar), {
        name: 'InvalidPointError',
        message: 'point 0 is the identity element',
      });
    }
  });

  it('the worker threads report the first refused point by its index in the whole batch', async () => {
    const scalar = randomScalar(seededRandom(2, 'bad'));
    const points = await workers.hashAndMultiply(
      Array.from({ length: 1000 }, (_, i) => `${i}`),
      scalar,
    );
    points.set(h(BAD_ENCODINGS[0] as string), 700 * ELEMENT_BYTES); // in a later chunk
    points.set(new Uint8Array(ELEMENT_BYTES), 900 * ELEMENT_BYTES);
    await assert.rejects(workers.multiply(points, scalar), {
      message: 'point 700 is not a canonical ristretto255 encoding',
    });
  });

  it('refuse scalars of the wrong length, zero, or not reduced, and ragged batches', async () => {
    const order = h('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
    const point = await nobleGroup.hashAndMultiply(['x'], randomScalar());
    for (const group of groups) {
      for (const scalar of [new Uint8Array(31), new Uint8Array(32), order]) {
        await assert.rejects(group.multiply(point, scalar), RangeError, group.name);
        await assert.rejects(group.hashAndMultiply(['x'], scalar), RangeError, group.name);
      }
      await assert.rejects(group.multiply(point.subarray(0, 31), randomScalar()), /31 bytes/);
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
      multiply({ points, scalar });
      assert.ok(scalar.every((byte) => byte === 0));
    }
  });
});
