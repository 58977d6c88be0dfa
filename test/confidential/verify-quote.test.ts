// Every real quote in test/vectors/tee verifies, with its matching collateral where there is
// one; claims and TCB statuses are compared with the values the vector README lists.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseQuote,
  QuoteVerificationError,
  verifyQuote,
} from '../../src/confidential/attestation/index.js';
import { bytes, QUOTES, quoteVector } from './vectors.js';

describe('verifyQuote on real quotes', () => {
  for (const vector of QUOTES) {
    it(`verifies ${vector.file} without collateral`, () => {
      const claims = verifyQuote(bytes(vector.file), { at: new Date(vector.at) });
      assert.equal(claims.type, vector.type);
      assert.equal(claims.quoteVersion, vector.version);
      assert.equal(claims.type === 'sgx' ? claims.mrenclave : claims.mrtd, vector.measurement);
      assert.equal(claims.debug, vector.debug);
      assert.equal(claims.fmspc, vector.fmspc);
      assert.equal(claims.trailingBytes, vector.trailingBytes);
      assert.equal(claims.tcbStatus, null);
      assert.deepEqual(claims.collateral, {
        tcbInfo: false,
        qeIdentity: false,
        rootCaCrl: false,
        pckCrl: false,
      });
    });
    const { collateral, tcbStatus } = vector;
    if (collateral === undefined || tcbStatus === undefined) continue;
    it(`evaluates ${vector.file} against its collateral: ${tcbStatus}`, () => {
      const supplied = collateral();
      const claims = verifyQuote(bytes(vector.file), {
        at: new Date(vector.at),
        collateral: supplied,
      });
      assert.equal(claims.tcbStatus, tcbStatus);
      assert.equal(claims.tcbDate, vector.tcbDate);
      assert.deepEqual(claims.collateral, {
        tcbInfo: supplied.tcbInfo !== undefined,
        qeIdentity: supplied.qeIdentity !== undefined,
        rootCaCrl: supplied.rootCaCrl !== undefined,
        pckCrl: supplied.pckCrl !== undefined,
      });
    });
  }

  it('reports SGX enclave identity fields from the report body', () => {
    const claims = verifyQuote(bytes('sgx/occlum/quote_v3.raw'), {
      at: new Date('2025-09-29T00:00:00Z'),
    });
    assert.equal(claims.type, 'sgx');
    if (claims.type !== 'sgx') return;
    assert.equal(
      claims.mrsigner,
      '6d5ead54bfbe9494e1cd9042bb7c25d74c597d4700e332b1b3168a60712c1e02',
    );
    assert.equal(claims.isvProdId, 4000);
    assert.equal(claims.isvSvn, 5000);
  });

  it('lists advisories of the matched level (phala SGX bundle)', () => {
    const vector = quoteVector('sgx/phala/sgx_quote_v3.bin');
    const claims = verifyQuote(bytes(vector.file), {
      at: new Date(vector.at),
      ...(vector.collateral && { collateral: vector.collateral() }),
    });
    assert.deepEqual([...claims.advisoryIds].sort(), ['INTEL-SA-00289', 'INTEL-SA-00615']);
    assert.equal(claims.qeTcbStatus, 'UpToDate');
  });

  it('rates the TDX module from tdxModuleIdentities (phala TDX bundle)', () => {
    const vector = quoteVector('tdx/phala/tdx_quote_v4.bin');
    const claims = verifyQuote(bytes(vector.file), {
      at: new Date(vector.at),
      ...(vector.collateral && { collateral: vector.collateral() }),
    });
    assert.equal(claims.tdxModuleTcbStatus, 'UpToDate');
    assert.equal(claims.qeTcbStatus, 'UpToDate');
  });

  it('parses a TDX 1.5 body (quote v5, body type 3) with MRSERVICETD', () => {
    const quote = parseQuote(bytes('tdx/go-tdx-guest/quote_v5_sample.dat'));
    assert.equal(quote.type, 'tdx');
    if (quote.type !== 'tdx') return;
    assert.equal(quote.body.mrServiceTd?.length, 48);
    assert.equal(quote.body.teeTcbSvn2?.length, 16);
  });

  it('binds the report data the caller expects', () => {
    const file = 'sgx/phala/sgx_quote_v3.bin';
    const at = new Date('2025-06-20T00:00:00Z');
    const expected = new Uint8Array(64);
    expected.set(new TextEncoder().encode('Hello, world!'));
    const claims = verifyQuote(bytes(file), { at, expectedReportData: expected });
    assert.equal(claims.reportData.slice(0, 26), '48656c6c6f2c20776f726c6421');
    const other = expected.slice();
    other[63] = 1;
    assert.throws(
      () => verifyQuote(bytes(file), { at, expectedReportData: other }),
      (error) => error instanceof QuoteVerificationError && error.check === 'report data',
    );
  });
});
