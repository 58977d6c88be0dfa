// Published test vectors, run through both backends: they must agree with the standards and so
// with each other, since a browser client (portable) and a Node server (node) share masks and keys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AuthenticationError,
  LowOrderPointError,
  type CryptoBackend,
} from '../../src/crypto/backend.js';
import { nodeBackend } from '../../src/crypto/backend-node.js';
import { portableBackend } from '../../src/crypto/backend-portable.js';
import { bytesToHex, hexToBytes as h } from '../../src/crypto/bytes.js';

const xor = (a: Uint8Array, b: Uint8Array) => a.map((byte, i) => byte ^ (b[i] as number));

for (const backend of [nodeBackend, portableBackend] as CryptoBackend[]) {
  describe(`${backend.name} backend`, () => {
    it('X25519 matches RFC 7748 §6.1 (Alice and Bob)', () => {
      const alice = h('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
      const bob = h('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
      const alicePublic = backend.x25519PublicKey(alice);
      const bobPublic = backend.x25519PublicKey(bob);
      assert.equal(
        bytesToHex(alicePublic),
        '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
      );
      assert.equal(
        bytesToHex(bobPublic),
        'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
      );
      const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
      assert.equal(bytesToHex(backend.x25519(alice, bobPublic)), shared);
      assert.equal(bytesToHex(backend.x25519(bob, alicePublic)), shared);
    });

    it('X25519 matches RFC 7748 §5.2 (one iteration)', () => {
      const scalar = h('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4');
      const u = h('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c');
      assert.equal(
        bytesToHex(backend.x25519(scalar, u)),
        'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
      );
    });

    it('X25519 rejects small-order public keys', () => {
      const privateKey = h('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
      const smallOrder = [
        '0000000000000000000000000000000000000000000000000000000000000000',
        '0100000000000000000000000000000000000000000000000000000000000000',
        'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
        'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      ];
      for (const point of smallOrder) {
        assert.throws(() => backend.x25519(privateKey, h(point)), LowOrderPointError, point);
      }
    });

    it('HKDF-SHA256 matches RFC 5869 test cases 1 and 3', () => {
      const ikm = new Uint8Array(22).fill(0x0b);
      const okm1 = backend.hkdfSha256(
        ikm,
        h('000102030405060708090a0b0c'),
        h('f0f1f2f3f4f5f6f7f8f9'),
        42,
      );
      assert.equal(
        bytesToHex(okm1),
        '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
      );
      const okm3 = backend.hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 42);
      assert.equal(
        bytesToHex(okm3),
        '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
      );
    });

    const gcmKey = h('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
    const gcmNonce = h('cafebabefacedbaddecaf888');
    const gcmAad = h('feedfacedeadbeeffeedfacedeadbeefabaddad2');
    const gcmPlain = h(
      'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    );
    const gcmSealed =
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662' +
      '76fc6ece0f4e1768cddf8853bb2d551b';

    it('AES-256-GCM matches the GCM specification, test case 16', () => {
      assert.equal(
        bytesToHex(backend.aes256GcmSeal(gcmKey, gcmNonce, gcmPlain, gcmAad)),
        gcmSealed,
      );
      assert.deepEqual(backend.aes256GcmOpen(gcmKey, gcmNonce, h(gcmSealed), gcmAad), gcmPlain);
    });

    it('AES-256-GCM refuses any altered byte of ciphertext, tag or associated data', () => {
      const sealed = h(gcmSealed);
      fc.assert(
        fc.property(
          fc.nat(sealed.length + gcmAad.length - 1),
          fc.integer({ min: 1, max: 255 }),
          (pos, flip) => {
            const c = sealed.slice();
            const a = gcmAad.slice();
            if (pos < c.length) c[pos] = (c[pos] as number) ^ flip;
            else a[pos - c.length] = (a[pos - c.length] as number) ^ flip;
            assert.throws(() => backend.aes256GcmOpen(gcmKey, gcmNonce, c, a), AuthenticationError);
          },
        ),
        { numRuns: 60 },
      );
    });

    it('AES-256-CTR matches NIST SP 800-38A F.5.5 across calls and a counter carry', () => {
      const key = h('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
      const next = backend.aes256CtrKeystream(key, h('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'));
      const blocks = [
        ['6bc1bee22e409f96e93d7e117393172a', '601ec313775789a5b7a7f504bbf3d228'],
        ['ae2d8a571e03ac9c9eb76fac45af8e51', 'f443e3ca4d62b59aca84e990cacaf5c5'],
        ['30c81c46a35ce411e5fbc1191a0a52ef', '2b0930daa23de94ce87017ba2d84988d'],
        ['f69f2445df4f9b17ad2b417be66c3710', 'dfc9c58db67aada613c2dd08457941a6'],
      ];
      for (const [plain, cipher] of blocks) {
        assert.equal(bytesToHex(xor(next(16), h(plain as string))), cipher);
      }
    });
  });
}

describe('backend agreement', () => {
  it('both backends produce the same keystream for any key, iv and chunking, to the byte', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 8 }),
        (key, iv, lengths) => {
          const a = nodeBackend.aes256CtrKeystream(key, iv);
          const b = portableBackend.aes256CtrKeystream(key, iv);
          const whole = nodeBackend.aes256CtrKeystream(key, iv)(lengths.reduce((x, y) => x + y));
          let offset = 0;
          for (const length of lengths) {
            const chunk = whole.subarray(offset, (offset += length));
            assert.deepEqual(a(length), chunk);
            assert.deepEqual(b(length), chunk);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('both backends derive the same HKDF-SHA256 output for any key, salt, info and length', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.integer({ min: 0, max: 255 * 32 }),
        (ikm, salt, info, length) => {
          assert.deepEqual(
            nodeBackend.hkdfSha256(ikm, salt, info, length),
            portableBackend.hkdfSha256(ikm, salt, info, length),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('both backends agree on X25519 for random keys', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (a, b) => {
          const pa = nodeBackend.x25519PublicKey(a);
          assert.deepEqual(portableBackend.x25519PublicKey(a), pa);
          const pb = portableBackend.x25519PublicKey(b);
          assert.deepEqual(nodeBackend.x25519(a, pb), portableBackend.x25519(a, pb));
        },
      ),
      { numRuns: 30 },
    );
  });
});
