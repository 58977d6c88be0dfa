// Ed25519 against RFC 8032's published vectors, and canonical JSON's one encoding.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/confidential/canonical-json.js';
import { sign, signingPublicKey, verifySignature } from '../../src/confidential/signing.js';
import { bytesToHex, hexToBytes } from '../../src/crypto/bytes.js';

// RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte, 0x72).
const VECTORS = [
  {
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

describe('Ed25519', () => {
  for (const [i, v] of VECTORS.entries()) {
    it(`reproduces RFC 8032 test ${i + 1}`, () => {
      const secret = hexToBytes(v.secret);
      assert.equal(bytesToHex(signingPublicKey(secret)), v.public);
      assert.equal(bytesToHex(sign(hexToBytes(v.message), secret)), v.signature);
      assert.ok(
        verifySignature(hexToBytes(v.signature), hexToBytes(v.message), hexToBytes(v.public)),
      );
    });
  }

  it('rejects a flipped bit, a wrong length and a malformed key', () => {
    const v = VECTORS[1] as (typeof VECTORS)[number];
    const signature = hexToBytes(v.signature);
    signature[10] = (signature[10] as number) ^ 1;
    assert.equal(verifySignature(signature, hexToBytes(v.message), hexToBytes(v.public)), false);
    assert.equal(
      verifySignature(new Uint8Array(63), new Uint8Array(), hexToBytes(v.public)),
      false,
    );
    assert.equal(
      verifySignature(
        hexToBytes(v.signature),
        hexToBytes(v.message),
        new Uint8Array(32).fill(0xff),
      ),
      false,
    );
  });
});

describe('canonical JSON', () => {
  it('sorts members, drops whitespace, keeps array order', () => {
    assert.equal(
      canonicalJson({ b: [2, 1], a: { d: null, c: 'x' }, e: true }),
      '{"a":{"c":"x","d":null},"b":[2,1],"e":true}',
    );
  });

  it('refuses numbers that have more than one textual form', () => {
    assert.throws(() => canonicalJson({ x: 0.5 }), TypeError);
    assert.throws(() => canonicalJson({ x: 2 ** 60 }), TypeError);
  });
});
