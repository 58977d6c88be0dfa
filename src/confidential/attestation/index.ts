// Public API of Intel SGX/TDX DCAP quote verification. loadCollateral (collateral-files.ts) is
// exported separately because it needs node:fs.
export type { Claims, Evidence, VerifyOptions } from './verifier.js';
export { Verifier } from './verifier.js';
export {
  createSoftwareEvidence,
  verifySoftwareEvidence,
  INSECURE_WARNING,
  SOFTWARE_EVIDENCE_FORMAT,
  type InsecureClaims,
} from './software-evidence.js';
export type { QuoteClaims, SgxClaims, TdxClaims, CollateralChecked } from './claims.js';
export { verifyQuote, INTEL_QE_VENDOR_ID, type VerifyQuoteOptions } from './verify-quote.js';
export { parseQuote, type Quote, type SgxQuote, type TdxQuote } from './quote.js';
export {
  type Collateral,
  type SignedJson,
  certificatesFromPem,
  collateralFromBundle,
  signedJsonFromResponse,
} from './collateral.js';
export {
  DEFAULT_POLICY,
  enforcePolicy,
  parsePolicy,
  parsePolicyText,
  type Policy,
  type SgxPolicy,
  type SoftwarePolicy,
  type TdxPolicy,
} from './policy.js';
export { TCB_STATUSES, type TcbStatus } from './tcb-status.js';
export { intelSgxRootCa, trustAnchorFrom, INTEL_SGX_ROOT_CA_SHA256 } from './intel-root.js';
export {
  AttestationError,
  CollateralError,
  PolicyError,
  PolicyViolationError,
  QuoteFormatError,
  QuoteVerificationError,
  quoteFormatError,
  collateralFormatError,
} from './errors.js';
