// RA-TLS certificates: the real Gramine certificates verify (legacy quote extension in Gramine's
// encoding, TCG DICE tagged evidence with CBOR claims), the one rooted at Intel's pre-production
// CA is refused, and a certificate whose key was swapped is refused. Sepal's own certificates
// round-trip through the same verifier.
import * as assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  parsePolicy,
  PolicyViolationError,
  QuoteVerificationError,
} from '../../src/confidential/attestation/index.js';
import { quoteFormatError } from '../../src/confidential/attestation/errors.js';
import { parseCertificate, pemCertificates } from '../../src/confidential/attestation/x509.js';
import { type Attester, SoftwareAttester } from '../../src/confidential/attesters/index.js';
import { sha256 } from '../../src/confidential/attestation/crypto.js';
import { extension, selfSign } from '../../src/confidential/ratls/certificate.js';
import {
  bindingReportData,
  createRaTlsIdentity,
  decodeDiceEvidence,
  OID_LEGACY_QUOTE,
  OID_LEGACY_QUOTE_GRAMINE,
  OID_TCG_DICE_TAGGED_EVIDENCE,
  RaTlsCertificateError,
  verifyRaTlsCertificate,
} from '../../src/confidential/ratls/index.js';
import { bytes, qeIdentity, tcbInfo, text } from './vectors.js';

const pem = (name: string): Uint8Array =>
  pemCertificates(text(name), name, quoteFormatError)[0] as Uint8Array;

/** Inside the TCB Info / QE Identity windows of the dcap-rs collateral (issued 2025-02-13). */
const at = new Date('2025-02-20T00:00:00Z');
const collateral = () => ({
  tcbInfo: tcbInfo('sgx/dcap-rs/tcbinfov2.json'),
  qeIdentity: qeIdentity('sgx/dcap-rs/qeidentityv2.json'),
});
const debugAllowed = parsePolicy({ sgx: {}, allowDebug: true });

const INTEROP = 'ratls/gramine_interop_cert.der';
const KONVERA = 'ratls/gramine_konvera_cert.der';

/** A fresh P-384 key pair, as Gramine and Sepal use. */
const p384 = () => generateKeyPairSync('ec', { namedCurve: 'P-384' });

describe('RA-TLS certificate verification (real Gramine certificates)', () => {
  it('verifies a Gramine >= 1.8 certificate: DICE evidence and the legacy quote', () => {
    const result = verifyRaTlsCertificate(bytes(INTEROP), {
      at,
      policy: debugAllowed,
      collateral: collateral(),
    });
    assert.deepEqual(
      result.evidence.map((e) => e.source),
      ['dice', 'legacy-quote'],
    );
    for (const { claims } of result.evidence) {
      assert.equal(claims.type, 'sgx');
      assert.ok(claims.type === 'sgx');
      assert.equal(
        claims.mrenclave,
        '0866e7ca11b9f4efe4bf39b2607f4e1299f111920d96d95719080f01b62b7585',
      );
      assert.equal(claims.tcbStatus, 'OutOfDate');
    }
    assert.equal(
      result.publicKeySha256,
      '5a5a5b2d177433048e9d62409d1acc4ec526c06e294d09e69a36cff9369e4851',
    );
  });

  it('decodes the DICE CBOR claims: pubkey-hash is SHA-256 of the key', () => {
    const cert = parseCertificate(bytes(INTEROP), 'cert', quoteFormatError);
    const dice = decodeDiceEvidence(
      cert.extensions.get(OID_TCG_DICE_TAGGED_EVIDENCE) as Uint8Array,
    );
    assert.equal(dice.pubkeyHashAlgorithm, 'sha256');
    assert.equal(Buffer.from(dice.pubkeyHash).toString('hex').slice(0, 16), '5a5a5b2d17743304');
    assert.ok(cert.extensions.has(OID_LEGACY_QUOTE_GRAMINE), 'Gramine writes the quirky OID');
  });

  it('verifies a pre-1.8 Gramine certificate (legacy extension only) under the default policy', () => {
    const result = verifyRaTlsCertificate(bytes(KONVERA), { at });
    assert.deepEqual(
      result.evidence.map((e) => e.source),
      ['legacy-quote'],
    );
    assert.equal(result.claims.type === 'sgx' && result.claims.debug, false);
  });

  it('applies the policy: a debug enclave is refused by default', () => {
    assert.throws(
      () => verifyRaTlsCertificate(bytes(INTEROP), { at }),
      (e: unknown) => e instanceof PolicyViolationError && e.rule === 'allowDebug',
    );
    const other = parsePolicy({ sgx: { mrenclave: ['00'.repeat(32)] }, allowDebug: true });
    assert.throws(
      () => verifyRaTlsCertificate(bytes(INTEROP), { at, policy: other }),
      /sgx\.mrenclave/,
    );
  });

  it('refuses the Graphene certificate whose quote chains to the pre-production root', () => {
    assert.throws(
      () => verifyRaTlsCertificate(bytes('ratls/graphene_sandbox_root_cert.der'), { at }),
      /PCK certificate chain: chain ends at root 'Intel SGX Root CA', which is not the pinned trust anchor/,
    );
  });

  it('verifies DICE-only certificates of other RA-TLS stacks (Intel SGX SDK, rats-tls)', () => {
    const sdk = verifyRaTlsCertificate(pem('ratls/intel_sgxsdk_interop_cert.pem'), {
      at,
      policy: debugAllowed,
    });
    assert.deepEqual(
      sdk.evidence.map((e) => e.source),
      ['dice'],
    );
    const rats = verifyRaTlsCertificate(pem('ratls/rats_tls_interop_cert.pem'), {
      at: new Date('2023-06-01T00:00:00Z'),
      policy: debugAllowed,
    });
    assert.equal(rats.claims.type, 'sgx');
  });

  it('refuses a certificate whose public key was swapped (self-signature breaks)', () => {
    const der = Buffer.from(bytes(KONVERA));
    const spki = parseCertificate(der, 'cert', quoteFormatError).spki;
    const other = p384().publicKey.export({ format: 'der', type: 'spki' });
    assert.equal(other.length, spki.length);
    const offset = der.indexOf(Buffer.from(spki));
    other.copy(der, offset);
    assert.throws(
      () => verifyRaTlsCertificate(new Uint8Array(der), { at }),
      (e: unknown) => e instanceof RaTlsCertificateError && e.check === 'signature',
    );
  });

  it('refuses a real quote replayed into a certificate for another key, in either OID encoding', () => {
    const source = parseCertificate(bytes(KONVERA), 'cert', quoteFormatError);
    const quote = source.extensions.get(OID_LEGACY_QUOTE_GRAMINE) as Uint8Array;
    for (const oid of [OID_LEGACY_QUOTE_GRAMINE, OID_LEGACY_QUOTE]) {
      const { privateKey, publicKey } = p384();
      const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
      const forged = selfSign(privateKey, spki, [extension(oid, quote)], {
        notBefore: new Date('2020-01-01T00:00:00Z'),
        notAfter: new Date('2030-01-01T00:00:00Z'),
      });
      // The quote itself verifies; only its binding to the certificate key fails.
      assert.throws(
        () => verifyRaTlsCertificate(forged, { at }),
        (e: unknown) => e instanceof QuoteVerificationError && e.check === 'report data',
      );
    }
  });

  it('refuses a certificate without evidence', () => {
    const { privateKey, publicKey } = p384();
    const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    const plain = selfSign(privateKey, spki, [], {
      notBefore: at,
      notAfter: new Date('2030-01-01'),
    });
    assert.throws(() => verifyRaTlsCertificate(plain, { at }), /no evidence extension/);
  });
});

describe("Sepal's RA-TLS certificates", () => {
  const measurement = new Uint8Array(32).fill(1);
  const allowInsecure = parsePolicy({ allowInsecure: true });

  it('carry a quote as Gramine writes it: legacy OID in Gramine form plus DICE evidence', async () => {
    // A stand-in for an enclave that answers every request with one fixed real quote: the
    // certificate is well formed, but its quotes cannot bind the fresh key.
    const quote = bytes('sgx/gramine/gramine_ratls_legacy_quote_v3.bin');
    const requests: Uint8Array[] = [];
    const stub: Attester = {
      kind: 'gramine-sgx',
      evidence: async (reportData) => {
        requests.push(reportData);
        return { kind: 'dcap-quote', quote };
      },
    };
    const identity = await createRaTlsIdentity(stub, {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-01T00:00:00Z'),
    });
    assert.deepEqual(identity.evidence, ['legacy-quote', 'dice']);
    const cert = parseCertificate(identity.certificate, 'cert', quoteFormatError);
    assert.deepEqual(cert.extensions.get(OID_LEGACY_QUOTE_GRAMINE), quote);
    assert.ok(
      Buffer.from(identity.certificate).includes(Buffer.from('060b06092a864886f84d8a3906', 'hex')),
    );
    const dice = decodeDiceEvidence(
      cert.extensions.get(OID_TCG_DICE_TAGGED_EVIDENCE) as Uint8Array,
    );
    assert.deepEqual(dice.pubkeyHash, sha256(cert.spki));
    assert.deepEqual(requests, [bindingReportData(cert.spki), bindingReportData(dice.claims)]);
    assert.throws(
      // The quote's PCK certificate was issued 2025-11-08.
      () =>
        verifyRaTlsCertificate(identity.certificate, {
          at: new Date('2026-01-01T00:00:00Z'),
          policy: debugAllowed,
        }),
      (e: unknown) => e instanceof QuoteVerificationError && e.check === 'report data',
    );
  });

  it('carry software evidence bound to a fresh P-384 key, refused unless insecure is allowed', async () => {
    const identity = await createRaTlsIdentity(new SoftwareAttester(measurement));
    assert.deepEqual(identity.evidence, ['software']);
    assert.equal(identity.privateKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    const result = verifyRaTlsCertificate(identity.certificate, { policy: allowInsecure });
    assert.equal(result.claims.type, 'insecure');
    assert.throws(
      () => verifyRaTlsCertificate(identity.certificate),
      (e: unknown) => e instanceof PolicyViolationError && e.rule === 'allowInsecure',
    );
  });

  it('is refused outside its validity period', async () => {
    const identity = await createRaTlsIdentity(new SoftwareAttester(measurement), {
      notBefore: new Date('2030-01-01T00:00:00Z'),
      notAfter: new Date('2030-02-01T00:00:00Z'),
    });
    assert.throws(
      () => verifyRaTlsCertificate(identity.certificate, { policy: allowInsecure }),
      (e: unknown) => e instanceof RaTlsCertificateError && e.check === 'validity',
    );
  });
});
