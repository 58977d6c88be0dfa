// TCB-level matching beyond the happy paths in verify-quote.test.ts.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  collateralFromBundle,
  parseQuote,
  QuoteVerificationError,
  verifyQuote,
} from '../../src/confidential/attestation/index.js';
import { readPlatformTcb } from '../../src/confidential/attestation/pck-extension.js';
import { parseEnclaveIdentity } from '../../src/confidential/attestation/qe-identity.js';
import {
  evaluateQeIdentity,
  evaluateTcb,
  withQe,
} from '../../src/confidential/attestation/tcb-evaluate.js';
import type { TcbStatus } from '../../src/confidential/attestation/tcb-status.js';
import { parseTcbInfo } from '../../src/confidential/attestation/tcb-info.js';
import { bytes, qeIdentity, tcbInfo, text } from './vectors.js';

const notSupported = (error: unknown) =>
  error instanceof QuoteVerificationError &&
  error.check === 'TCB evaluation' &&
  /below every level/.test(error.reason);

describe('TCB evaluation', () => {
  it('rejects a TDX platform below every level (go-tdx-guest SPR E4, SGX component 1 = 3 < 5)', () => {
    assert.throws(
      () =>
        verifyQuote(bytes('tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat'), {
          at: new Date('2023-06-20T00:00:00Z'),
          collateral: {
            tcbInfo: tcbInfo('tdx/go-tdx-guest/sample_tcbInfo_response.json'),
            pckCrl: bytes('tdx/go-tdx-guest/pckcrl.der'),
            rootCaCrl: bytes('tdx/go-tdx-guest/rootcrl.der'),
          },
        }),
      notSupported,
    );
  });

  it('rejects the outdated TDX v5 quote against its bundle', () => {
    assert.throws(
      () =>
        verifyQuote(bytes('tdx/phala/tdx_quote_v5_outdated.bin'), {
          at: new Date('2026-02-19T00:00:00Z'),
          collateral: collateralFromBundle(text('tdx/phala/tdx_quote_v5_outdated_collateral.json')),
        }),
      notSupported,
    );
  });

  it('reads SGX TCB Info version 2 (sgxtcbcompNNsvn members)', () => {
    // The Gramine quote's PCK (2025-11) and this TCB Info (2025-02) share no validity window,
    // so the level rule is exercised directly on the signed document's content.
    const quote = parseQuote(bytes('sgx/gramine/gramine_ratls_legacy_quote_v3.bin'));
    const leaf = quote.certification.pckChain[0];
    assert.ok(leaf);
    const info = parseTcbInfo(JSON.parse(tcbInfo('sgx/dcap-rs/tcbinfov2.json').body));
    assert.equal(info.version, 2);
    const verdict = evaluateTcb(info, readPlatformTcb(leaf), quote);
    assert.equal(verdict.status, 'OutOfDateConfigurationNeeded');
    assert.equal(verdict.tcbDate, '2023-02-15T00:00:00Z');
  });

  it('checks the QE report against QE Identity and refuses a different signer', () => {
    const quote = parseQuote(bytes('tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat'));
    const identity = parseEnclaveIdentity(
      JSON.parse(qeIdentity('tdx/go-tdx-guest/sample_qeIdentity_response.json').body),
    );
    assert.equal(evaluateQeIdentity(identity, quote).status, 'UpToDate');
    const otherSigner = { ...identity, mrSigner: new Uint8Array(32) };
    assert.throws(
      () => evaluateQeIdentity(otherSigner, quote),
      (error) => error instanceof QuoteVerificationError && /MRSIGNER/.test(error.reason),
    );
    const newerQe = {
      ...identity,
      levels: identity.levels.map((level) => ({ ...level, isvSvn: 99 })),
    };
    assert.throws(
      () => evaluateQeIdentity(newerQe, quote),
      (error) => error instanceof QuoteVerificationError && /ISVSVN 4 is below/.test(error.reason),
    );
  });

  it('folds the QE status into the platform status', () => {
    const quote = parseQuote(bytes('sgx/phala/sgx_quote_v3.bin'));
    const leaf = quote.certification.pckChain[0];
    assert.ok(leaf);
    const bundle = collateralFromBundle(text('sgx/phala/sgx_quote_collateral.json'));
    assert.ok(bundle.tcbInfo);
    const info = parseTcbInfo(JSON.parse(bundle.tcbInfo.body));
    const verdict = evaluateTcb(info, readPlatformTcb(leaf), quote);
    assert.equal(verdict.status, 'ConfigurationAndSWHardeningNeeded');
    const qe = (status: TcbStatus) => ({ isvSvn: 0, tcbDate: '', status, advisoryIds: ['QE-SA'] });
    const outdated = withQe(verdict, qe('OutOfDate'));
    assert.equal(outdated.status, 'OutOfDateConfigurationNeeded');
    assert.ok(outdated.advisoryIds.includes('QE-SA'));
    assert.equal(withQe(verdict, qe('Revoked')).status, 'Revoked');
    assert.equal(withQe(verdict, qe('UpToDate')).status, 'ConfigurationAndSWHardeningNeeded');
  });
});
