// Collateral is checked before it is believed: signatures over the exact served JSON, signer
// chains, validity windows, CRL issuers, and that it applies to the quote's platform.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CollateralError,
  collateralFromBundle,
  type SignedJson,
  verifyQuote,
} from '../../src/confidential/attestation/index.js';
import { parseCrl } from '../../src/confidential/attestation/crl.js';
import { rawMember } from '../../src/confidential/attestation/json-fields.js';
import { bytes, qeIdentity, tcbInfo, text } from './vectors.js';

const PHALA_SGX = 'sgx/phala/sgx_quote_v3.bin';
const phalaBundle = () => collateralFromBundle(text('sgx/phala/sgx_quote_collateral.json'));
const phalaAt = new Date('2025-06-20T00:00:00Z');

const rejects = (item: RegExp, detail: RegExp) => (error: unknown) =>
  error instanceof CollateralError && item.test(error.item) && detail.test(error.reason);

describe('signed JSON collateral', () => {
  it('rejects TCB Info whose content was altered', () => {
    const signed = phalaBundle().tcbInfo as SignedJson;
    const altered = { ...signed, body: signed.body.replace('"OutOfDate"', '"UpToDate"') };
    assert.notEqual(altered.body, signed.body);
    assert.throws(
      () => verifyQuote(bytes(PHALA_SGX), { at: phalaAt, collateral: { tcbInfo: altered } }),
      rejects(/^TCB Info$/, /signature does not verify/),
    );
  });

  it('verifies only the exact served bytes, not a re-serialisation', () => {
    const signed = phalaBundle().tcbInfo as SignedJson;
    const pretty = { ...signed, body: JSON.stringify(JSON.parse(signed.body), null, 2) };
    assert.throws(
      () => verifyQuote(bytes(PHALA_SGX), { at: phalaAt, collateral: { tcbInfo: pretty } }),
      rejects(/^TCB Info$/, /signature does not verify/),
    );
  });

  it('rejects QE Identity with a signature from another document', () => {
    const bundle = phalaBundle();
    const swapped = {
      ...(bundle.qeIdentity as SignedJson),
      signature: (bundle.tcbInfo as SignedJson).signature,
    };
    assert.throws(
      () => verifyQuote(bytes(PHALA_SGX), { at: phalaAt, collateral: { qeIdentity: swapped } }),
      rejects(/^QE Identity$/, /signature does not verify/),
    );
  });

  it('rejects TCB Info after its nextUpdate', () => {
    const at = new Date('2025-07-20T00:00:00Z'); // nextUpdate is 2025-07-19T10:...
    const { tcbInfo: signed } = phalaBundle();
    assert.ok(signed);
    assert.throws(
      () => verifyQuote(bytes(PHALA_SGX), { at, collateral: { tcbInfo: signed } }),
      rejects(/^TCB Info$/, /not at 2025-07-20/),
    );
  });

  it('rejects TCB Info whose signing certificate has expired', () => {
    // Issued 2025-09-28, but given with the TCB Signing certificate that expired 2025-05-21.
    const signed = tcbInfo('sgx/teekit/tcbInfo-sgx-90c06f000000.min.json', false);
    assert.throws(
      () =>
        verifyQuote(bytes('sgx/teekit/sgx-chinenyeokafor.dat'), {
          at: new Date('2025-09-29T00:00:00Z'),
          collateral: { tcbInfo: signed },
        }),
      rejects(/issuer chain/, /Intel SGX TCB Signing/),
    );
  });

  it('rejects TCB Info for another FMSPC', () => {
    const signed = tcbInfo('sgx/teekit/tcbInfo-sgx-90c06f000000.min.json', true);
    assert.throws(
      () =>
        verifyQuote(bytes('sgx/occlum/quote_v3.raw'), {
          at: new Date('2025-09-29T00:00:00Z'),
          collateral: { tcbInfo: signed },
        }),
      rejects(/^TCB Info$/, /FMSPC 90c06f000000 .* says 30606a000000/),
    );
  });

  it('rejects TDX collateral for an SGX quote', () => {
    const tdx = collateralFromBundle(text('tdx/phala/tdx_quote_collateral.json'));
    assert.ok(tdx.tcbInfo && tdx.qeIdentity);
    for (const [collateral, item] of [
      [{ tcbInfo: tdx.tcbInfo }, /^TCB Info$/],
      [{ qeIdentity: tdx.qeIdentity }, /^QE Identity$/],
    ] as const) {
      assert.throws(
        () => verifyQuote(bytes(PHALA_SGX), { at: phalaAt, collateral }),
        rejects(item, /TDX|TD_QE/),
      );
    }
  });

  it('checks an SGX quote against the SGX QE Identity', () => {
    const claims = verifyQuote(bytes(PHALA_SGX), {
      at: phalaAt,
      collateral: { qeIdentity: phalaBundle().qeIdentity as SignedJson },
    });
    assert.equal(claims.qeTcbStatus, 'UpToDate');
    assert.equal(claims.tcbStatus, null); // no TCB Info: the platform is not rated
  });

  it('cuts the signed member out of a response byte for byte', () => {
    const body = '{"a":1, "tcbInfo" : {"s":"}\\"{","n":[1,{"x":2}]} ,"signature":"ab"}';
    assert.equal(rawMember(body, 'tcbInfo'), '{"s":"}\\"{","n":[1,{"x":2}]}');
    assert.equal(rawMember(body, 'signature'), '"ab"');
    assert.equal(rawMember(body, 'a'), '1');
    assert.equal(rawMember(body, 'missing'), undefined);
  });

  it('names the bundle field that is malformed', () => {
    const bundle = JSON.parse(text('sgx/phala/sgx_quote_collateral.json')) as Record<
      string,
      string
    >;
    bundle['tcb_info_signature'] = 'zz';
    assert.throws(
      () => collateralFromBundle(JSON.stringify(bundle)),
      rejects(/tcb_info_signature/, /expected 128 hex digits/),
    );
  });
});

describe('CRLs', () => {
  const mobilecoin = bytes('sgx/mobilecoin/hw_quote_v3.dat');
  const crls = {
    pckCrl: bytes('sgx/mobilecoin/processor_crl.der'),
    rootCaCrl: bytes('sgx/mobilecoin/root_crl.der'),
  };

  it('accepts current CRLs from the right issuers', () => {
    const claims = verifyQuote(mobilecoin, {
      at: new Date('2023-04-22T00:00:00Z'),
      collateral: crls,
    });
    assert.equal(claims.collateral.pckCrl, true);
    assert.equal(claims.collateral.rootCaCrl, true);
  });

  it('rejects a PCK CRL past its nextUpdate', () => {
    assert.throws(
      () => verifyQuote(mobilecoin, { at: new Date('2023-06-01T00:00:00Z'), collateral: crls }),
      rejects(/^PCK CA CRL$/, /2023-05-21.*not at 2023-06-01/),
    );
  });

  it('rejects a CRL from the wrong issuer', () => {
    assert.throws(
      () =>
        verifyQuote(mobilecoin, {
          at: new Date('2023-04-22T00:00:00Z'),
          collateral: { pckCrl: crls.rootCaCrl },
        }),
      rejects(/^PCK CA CRL$/, /not issued by 'Intel SGX PCK Processor CA'/),
    );
  });

  it('rejects a CRL from another PCK CA (Platform CA CRL for a Processor-CA quote)', () => {
    assert.throws(
      () =>
        verifyQuote(mobilecoin, {
          at: new Date('2023-06-10T00:00:00Z'),
          collateral: { pckCrl: bytes('tdx/go-tdx-guest/pckcrl.der') },
        }),
      rejects(/^PCK CA CRL$/, /not issued by/),
    );
  });

  it('decodes revoked serials and dates', () => {
    const crl = parseCrl(bytes('tdx/go-tdx-guest/pckcrl.der'), 'PCK CRL');
    assert.equal(crl.revoked.size, 44);
    assert.equal(crl.thisUpdate.toISOString().slice(0, 10), '2023-06-08');
    assert.ok(crl.nextUpdate && crl.nextUpdate > crl.thisUpdate);
  });

  it('rejects a truncated CRL with a CollateralError', () => {
    const der = bytes('tdx/go-tdx-guest/pckcrl.der');
    for (const length of [0, 1, 10, 200, der.length - 1]) {
      assert.throws(() => parseCrl(der.subarray(0, length), 'PCK CRL'), CollateralError);
    }
  });

  it('accepts the TDX platform CRLs and QE Identity of go-tdx-guest', () => {
    const claims = verifyQuote(bytes('tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat'), {
      at: new Date('2023-06-20T00:00:00Z'),
      collateral: {
        qeIdentity: qeIdentity('tdx/go-tdx-guest/sample_qeIdentity_response.json'),
        pckCrl: bytes('tdx/go-tdx-guest/pckcrl.der'),
        rootCaCrl: bytes('tdx/go-tdx-guest/rootcrl.der'),
      },
    });
    assert.equal(claims.qeTcbStatus, 'UpToDate');
  });
});
