// Forged, damaged and mis-rooted quotes are rejected with typed errors: byte flips anywhere in
// the signed parts, truncation, random bytes, a foreign root and times outside validity.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AttestationError,
  parseQuote,
  type Quote,
  QuoteFormatError,
  QuoteVerificationError,
  quoteFormatError,
  verifyQuote,
} from '../../src/confidential/attestation/index.js';
import { parseCertificate } from '../../src/confidential/attestation/x509.js';
import { bytes, quoteVector } from './vectors.js';

const VECTORS = [
  'sgx/phala/sgx_quote_v3.bin',
  'tdx/phala/tdx_quote_v4.bin',
  'tdx/go-tdx-guest/quote_v5_sample.dat',
].map(quoteVector);

/** Offset of a field (a view into `original`) within it. */
const offsetOf = (original: Uint8Array, field: Uint8Array) =>
  field.byteOffset - original.byteOffset;

function flipped(original: Uint8Array, position: number, mask = 0x01): Uint8Array {
  const copy = original.slice();
  copy[position] = (copy[position] as number) ^ mask;
  return copy;
}

/** Byte ranges [start, end) of the signed or hash-bound parts of a parsed quote. */
function regions(original: Uint8Array, quote: Quote): Record<string, [number, number]> {
  const range = (field: Uint8Array): [number, number] => {
    const start = offsetOf(original, field);
    return [start, start + field.length];
  };
  const { qeReport, qeReportSignature, qeAuthData } = quote.certification;
  return {
    header: [0, 48],
    body: [48, quote.signedBytes.length],
    'quote signature': range(quote.signature),
    'attestation key': range(quote.attestationKey),
    'QE report': range(qeReport.raw),
    'QE report signature': range(qeReportSignature),
    'QE authentication data': range(qeAuthData),
  };
}

/** What each region's corruption must be caught by. */
const EXPECTED_CHECK: Record<string, string> = {
  header: 'quote signature',
  body: 'quote signature',
  'quote signature': 'quote signature',
  'attestation key': 'QE report data',
  'QE report': 'QE report signature',
  'QE report signature': 'QE report signature',
  'QE authentication data': 'QE report data',
};

describe('tampering', () => {
  for (const vector of VECTORS) {
    const original = bytes(vector.file);
    const at = new Date(vector.at);
    const quote = parseQuote(original);
    const parts = regions(original, quote);

    for (const [name, [start, end]] of Object.entries(parts)) {
      it(`${vector.file}: a flipped byte in the ${name} is caught by the ${EXPECTED_CHECK[name]} check`, () => {
        assert.ok(end > start, `${name} is not empty`);
        // Header user data (offset 28..48): version, key type, TEE type and QE vendor ID are
        // checked before any signature, so flips there fail earlier (covered by the property).
        const position = name === 'header' ? 40 : Math.floor((start + end) / 2);
        assert.throws(
          () => verifyQuote(flipped(original, position), { at }),
          (error) =>
            error instanceof QuoteVerificationError && error.check === EXPECTED_CHECK[name],
        );
      });
    }

    it(`${vector.file}: any byte flip up to the end of the QE authentication data is rejected`, () => {
      const [, signedEnd] = parts['QE authentication data'] as [number, number];
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: signedEnd - 1 }),
          fc.integer({ min: 1, max: 255 }),
          (position, mask) => {
            assert.throws(
              () => verifyQuote(flipped(original, position, mask), { at }),
              AttestationError,
            );
          },
        ),
        { numRuns: 150 },
      );
    });

    it(`${vector.file}: every truncation is a QuoteFormatError naming a field`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: quote.length - 1 }), (length) => {
          assert.throws(
            () => parseQuote(original.subarray(0, length)),
            (error) => error instanceof QuoteFormatError && error.field.length > 0,
          );
        }),
        { numRuns: 200 },
      );
    });

    it(`${vector.file}: a corrupted PCK leaf certificate is rejected`, () => {
      const leaf = quote.certification.pckChain[0];
      assert.ok(leaf);
      // The leaf's PEM text starts after the certification data headers; corrupt a base64
      // character in its middle (signature or key bits).
      const pem = new TextDecoder().decode(original);
      const begin = pem.indexOf('-----BEGIN CERTIFICATE-----');
      const finish = pem.indexOf('-----END CERTIFICATE-----', begin);
      const position = Math.floor((begin + finish) / 2);
      const copy = original.slice();
      copy[position] = copy[position] === 0x41 ? 0x42 : 0x41; // 'A' <-> 'B', still base64
      assert.throws(() => verifyQuote(copy, { at }), AttestationError);
    });
  }

  it('random bytes never crash the parser', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (data) => {
        assert.throws(() => parseQuote(data), QuoteFormatError);
      }),
      { numRuns: 300 },
    );
  });

  it('corrupted length fields are rejected with typed errors, never a crash', () => {
    const original = bytes('tdx/phala/tdx_quote_v4.bin');
    const quote = parseQuote(original);
    const signatureDataLength = quote.signedBytes.length;
    const qeAuthSize = offsetOf(original, quote.certification.qeAuthData) - 2;
    fc.assert(
      fc.property(
        fc.constantFrom(signatureDataLength, qeAuthSize, qeAuthSize - 384 - 64 - 4),
        fc.integer({ min: 1, max: 255 }),
        (position, value) => {
          const copy = original.slice();
          copy[position + 1] = (copy[position + 1] as number) ^ value;
          try {
            verifyQuote(copy, { at: new Date('2025-06-20T00:00:00Z') });
            assert.fail('accepted a quote with a corrupted length field');
          } catch (error) {
            assert.ok(error instanceof AttestationError, String(error));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps trailing bytes out of the signed data and reports them', () => {
    const original = bytes('tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat');
    const quote = parseQuote(original);
    const tail = new TextDecoder().decode(original.subarray(quote.length));
    assert.equal(tail, '\nextra bytes(only for testing purpose)\n');
    const claims = verifyQuote(original, { at: new Date('2023-06-20T00:00:00Z') });
    assert.equal(claims.trailingBytes, 39);
  });
});

describe('trust anchor and time', () => {
  const vector = quoteVector('sgx/phala/sgx_quote_v3.bin');
  const original = bytes(vector.file);
  const leaf = parseQuote(original).certification.pckChain[0];
  assert.ok(leaf);

  // A real Graphene RA-TLS certificate whose embedded quote chains to Intel's sandbox root.
  const sandboxQuote = (): Uint8Array => {
    const cert = parseCertificate(
      bytes('ratls/graphene_sandbox_root_cert.der'),
      'RA-TLS cert',
      quoteFormatError,
    );
    const quote = cert.extensions.get('0.6.9.42.840.113741.1337.6');
    assert.ok(quote, 'legacy RA-TLS quote extension');
    return quote;
  };

  it('rejects a quote whose PCK chain ends at a different (sandbox) root', () => {
    const quote = sandboxQuote();
    const root = parseQuote(quote).certification.pckChain.at(-1);
    assert.ok(root);
    assert.throws(
      () => verifyQuote(quote, { at: new Date('2021-06-01T00:00:00Z') }),
      (error) =>
        error instanceof QuoteVerificationError &&
        error.check === 'PCK certificate chain' &&
        /not the pinned trust anchor/.test(error.reason),
    );
  });

  it('rejects a production quote when another root is pinned', () => {
    const sandboxRoot = parseQuote(sandboxQuote()).certification.pckChain.at(-1);
    assert.ok(sandboxRoot);
    assert.throws(
      () => verifyQuote(original, { at: new Date(vector.at), trustAnchor: sandboxRoot }),
      (error) => error instanceof QuoteVerificationError && error.check === 'PCK certificate chain',
    );
  });

  it('rejects the chain just after the PCK leaf expires and just before it is issued', () => {
    const late = new Date(leaf.notAfter.getTime() + 1000);
    const early = new Date(leaf.notBefore.getTime() - 1000);
    for (const at of [late, early]) {
      assert.throws(
        () => verifyQuote(original, { at }),
        (error) =>
          error instanceof QuoteVerificationError && /Intel SGX PCK Certificate/.test(error.reason),
      );
    }
    assert.doesNotThrow(() => verifyQuote(original, { at: leaf.notAfter }));
  });

  it('rejects a time after the root CA expires', () => {
    assert.throws(
      () => verifyQuote(original, { at: new Date('2050-01-01T00:00:00Z') }),
      QuoteVerificationError,
    );
  });

  it('decodes the PEM chain to the DER PCK leaf the mobilecoin vector ships separately', () => {
    const quote = parseQuote(bytes('sgx/mobilecoin/hw_quote_v3.dat'));
    assert.deepEqual(
      quote.certification.pckChain[0]?.der,
      bytes('sgx/mobilecoin/pck_leaf_cert.der'),
    );
  });
});
