// Policy documents are validated field by field, and the Verifier refuses verified evidence
// the policy does not allow.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parsePolicy,
  PolicyError,
  PolicyViolationError,
  Verifier,
} from '../../src/confidential/attestation/index.js';
import { bytes, quoteVector } from './vectors.js';

const evidence = (file: string) => ({ kind: 'dcap-quote', quote: bytes(file) }) as const;
const refusedBy = (rule: string) => (error: unknown) =>
  error instanceof PolicyViolationError && error.rule === rule;

const OCCLUM = quoteVector('sgx/occlum/quote_v3.raw');
const MOBILECOIN = quoteVector('sgx/mobilecoin/hw_quote_v3.dat');
const TDX = quoteVector('tdx/phala/tdx_quote_v4.bin');
const at = (vector: { at: string }) => ({ at: new Date(vector.at) });

describe('policy documents', () => {
  it('applies defaults: debug and insecure refused, any TCB status but Revoked', () => {
    const policy = parsePolicy({ sgx: {} });
    assert.equal(policy.allowDebug, false);
    assert.equal(policy.allowInsecure, false);
    assert.equal(policy.requireCollateral, false);
    assert.equal(policy.tdx, undefined);
    assert.ok(!policy.tcbStatuses.includes('Revoked'));
    assert.ok(policy.tcbStatuses.includes('OutOfDate'));
  });

  for (const [document, field] of [
    [{ sgx: { mrenclave: ['abcd'] } }, 'sgx.mrenclave[0]'],
    [{ sgx: { mrenclave: 'ab' } }, 'sgx.mrenclave'],
    [{ sgx: { isvProdId: -1 } }, 'sgx.isvProdId'],
    [{ sgx: { minIsvSvn: 1.5 } }, 'sgx.minIsvSvn'],
    [{ sgx: { mrenclve: [] } }, 'sgx.mrenclve'],
    [{ tdx: { mrtd: ['00'.repeat(32)] } }, 'tdx.mrtd[0]'],
    [{ allowDebug: 'no' }, 'allowDebug'],
    [{ tcbStatuses: ['Fine'] }, 'tcbStatuses[0]'],
    [{ allowInsecur: true }, 'allowInsecur'],
    [[], ''],
  ] as const) {
    it(`names ${field || 'the document'} when it is invalid`, () => {
      assert.throws(
        () => parsePolicy(document),
        (error) => error instanceof PolicyError && error.field === field,
      );
    });
  }
});

describe('Verifier', () => {
  it('accepts an allowed MRENCLAVE and refuses any other', () => {
    const measurement = OCCLUM.measurement;
    const allowed = new Verifier(parsePolicy({ sgx: { mrenclave: [measurement.toUpperCase()] } }));
    const claims = allowed.verify(evidence(OCCLUM.file), at(OCCLUM));
    assert.equal(claims.type, 'sgx');
    const other = new Verifier(parsePolicy({ sgx: { mrenclave: ['11'.repeat(32)] } }));
    assert.throws(
      () => other.verify(evidence(OCCLUM.file), at(OCCLUM)),
      refusedBy('sgx.mrenclave'),
    );
  });

  it('checks MRSIGNER, ISVPRODID and the minimum ISVSVN', () => {
    const check = (sgx: object) =>
      new Verifier(parsePolicy({ sgx })).verify(evidence(OCCLUM.file), at(OCCLUM));
    assert.doesNotThrow(() => check({ isvProdId: 4000, minIsvSvn: 5000 }));
    assert.throws(() => check({ isvProdId: 4001 }), refusedBy('sgx.isvProdId'));
    assert.throws(() => check({ minIsvSvn: 5001 }), refusedBy('sgx.minIsvSvn'));
    assert.throws(() => check({ mrsigner: ['00'.repeat(32)] }), refusedBy('sgx.mrsigner'));
  });

  it('refuses a debug enclave unless allowDebug', () => {
    assert.throws(
      () => new Verifier().verify(evidence(MOBILECOIN.file), at(MOBILECOIN)),
      refusedBy('allowDebug'),
    );
    const lenient = new Verifier(parsePolicy({ sgx: {}, allowDebug: true }));
    assert.equal(lenient.verify(evidence(MOBILECOIN.file), at(MOBILECOIN)).type, 'sgx');
  });

  it('accepts TDX only with a tdx section, and checks MRTD', () => {
    assert.throws(
      () => new Verifier(parsePolicy({ sgx: {} })).verify(evidence(TDX.file), at(TDX)),
      refusedBy('tdx'),
    );
    const pinned = new Verifier(parsePolicy({ tdx: { mrtd: [TDX.measurement] } }));
    assert.equal(pinned.verify(evidence(TDX.file), at(TDX)).type, 'tdx');
    const other = new Verifier(parsePolicy({ tdx: { mrtd: ['22'.repeat(48)] } }));
    assert.throws(() => other.verify(evidence(TDX.file), at(TDX)), refusedBy('tdx.mrtd'));
  });

  it('refuses a TCB status the policy does not list', () => {
    const options = {
      ...at(OCCLUM),
      ...(OCCLUM.collateral && { collateral: OCCLUM.collateral() }),
    };
    const strict = new Verifier(parsePolicy({ sgx: {}, tcbStatuses: ['UpToDate'] }));
    assert.throws(() => strict.verify(evidence(OCCLUM.file), options), refusedBy('tcbStatuses'));
    const claims = new Verifier().verify(evidence(OCCLUM.file), options);
    assert.equal(claims.type === 'sgx' && claims.tcbStatus, 'OutOfDate');
  });

  it('refuses missing collateral when requireCollateral', () => {
    const policy = parsePolicy({ tdx: {}, requireCollateral: true });
    assert.throws(
      () => new Verifier(policy).verify(evidence(TDX.file), at(TDX)),
      refusedBy('requireCollateral'),
    );
    const collateral = TDX.collateral?.();
    assert.ok(collateral);
    assert.equal(
      new Verifier(policy).verify(evidence(TDX.file), { ...at(TDX), collateral }).type,
      'tdx',
    );
  });
});
