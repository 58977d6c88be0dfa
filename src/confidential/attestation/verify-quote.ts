// Cryptographic verification of a DCAP quote, optionally against collateral. Policy (which
// enclaves and TCB statuses are acceptable) is applied on top by verifier.ts.
import { bytesEqual, concatBytes, toHex } from './bytes.js';
import { verifyChain } from './chain.js';
import { type CollateralChecked, claimsOf, type QuoteClaims } from './claims.js';
import { type Collateral, checkCollateral } from './collateral.js';
import { p256SpkiFromRaw, sha256, verifyP256 } from './crypto.js';
import { QuoteVerificationError } from './errors.js';
import { intelSgxRootCa } from './intel-root.js';
import { readPlatformTcb } from './pck-extension.js';
import { parseQuote, type Quote } from './quote.js';
import { evaluateQeIdentity, evaluateTcb, withQe } from './tcb-evaluate.js';
import type { Certificate } from './x509.js';

/** QE vendor ID of Intel's Quoting Enclaves (header.qeVendorId). */
export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';

export interface VerifyQuoteOptions {
  /** When to check validity periods; defaults to now. Real collateral expires within ~30 days. */
  readonly at?: Date;
  /** Root the PCK and TCB-signing chains must end at; defaults to the Intel SGX Root CA. */
  readonly trustAnchor?: Certificate;
  readonly collateral?: Collateral;
  /** If given, the quote's 64-byte report data must equal it. */
  readonly expectedReportData?: Uint8Array;
}

/** Verifies `bytes` as an SGX or TDX DCAP quote; returns its claims or throws an AttestationError. */
export function verifyQuote(bytes: Uint8Array, options: VerifyQuoteOptions = {}): QuoteClaims {
  const at = options.at ?? new Date();
  const anchor = options.trustAnchor ?? intelSgxRootCa();
  const quote = parseQuote(bytes);
  if (toHex(quote.header.qeVendorId) !== INTEL_QE_VENDOR_ID) {
    throw new QuoteVerificationError(
      'QE vendor',
      `${toHex(quote.header.qeVendorId)} is not Intel's ${INTEL_QE_VENDOR_ID}`,
    );
  }
  const pckPath = verifyChain(
    quote.certification.pckChain,
    anchor,
    at,
    (detail) => new QuoteVerificationError('PCK certificate chain', detail),
  );
  const leaf = pckPath[0] as Certificate;
  verifyQeEndorsement(quote, leaf);
  if (
    !verifyP256(p256SpkiFromRaw(quote.attestationKey), quote.signedBytes, quote.signature, 'raw')
  ) {
    throw new QuoteVerificationError(
      'quote signature',
      'the header and report body are not signed by the attestation key',
    );
  }
  checkReportData(quote.body.reportData, options.expectedReportData);
  const platform = readPlatformTcb(leaf);
  const collateral = options.collateral ?? {};
  const checked = checkCollateral(collateral, pckPath, anchor, at);
  const platformVerdict = checked.tcbInfo && evaluateTcb(checked.tcbInfo, platform, quote);
  const qeLevel = checked.qeIdentity && evaluateQeIdentity(checked.qeIdentity, quote);
  const verdict = platformVerdict && qeLevel ? withQe(platformVerdict, qeLevel) : platformVerdict;
  const present: CollateralChecked = {
    tcbInfo: collateral.tcbInfo !== undefined,
    qeIdentity: collateral.qeIdentity !== undefined,
    rootCaCrl: collateral.rootCaCrl !== undefined,
    pckCrl: collateral.pckCrl !== undefined,
  };
  return claimsOf(quote, platform, { verdict, qeStatus: qeLevel?.status }, present, at);
}

/**
 * The QE report must be signed by the PCK leaf, and its report data must be
 * SHA-256(attestation key || QE authentication data) followed by 32 zero bytes: that is how the
 * platform's PCK vouches for the attestation key that signed the quote.
 */
function verifyQeEndorsement(quote: Quote, leaf: Certificate): void {
  const { qeReport, qeReportSignature, qeAuthData } = quote.certification;
  if (!verifyP256(leaf.spki, qeReport.raw, qeReportSignature, 'raw')) {
    throw new QuoteVerificationError(
      'QE report signature',
      'does not verify with the PCK leaf key',
    );
  }
  const expected = concatBytes(
    sha256(concatBytes(quote.attestationKey, qeAuthData)),
    new Uint8Array(32),
  );
  if (!bytesEqual(qeReport.reportData, expected)) {
    throw new QuoteVerificationError(
      'QE report data',
      'is not SHA-256(attestation key || QE authentication data) || 32 zero bytes',
    );
  }
}

/** The caller's binding check: report data must equal `expected` when one is given. */
export function checkReportData(actual: Uint8Array, expected: Uint8Array | undefined): void {
  if (expected !== undefined && !bytesEqual(actual, expected)) {
    throw new QuoteVerificationError(
      'report data',
      `${toHex(actual)} is not the expected ${toHex(expected)}`,
    );
  }
}
