// The Verifier: cryptographic verification of evidence followed by policy appraisal.
import { toHex } from './bytes.js';
import type { QuoteClaims } from './claims.js';
import { PolicyViolationError } from './errors.js';
import { DEFAULT_POLICY, enforcePolicy, type Policy } from './policy.js';
import { checkReportData, verifyQuote, type VerifyQuoteOptions } from './verify-quote.js';

/**
 * Evidence to appraise: an Intel DCAP quote, or evidence from a software attester that runs
 * outside any TEE and says so (its report data binds a key or nonce but nothing vouches for it).
 */
export type Evidence =
  | { readonly kind: 'dcap-quote'; readonly quote: Uint8Array }
  | { readonly kind: 'insecure'; readonly reportData: Uint8Array };

/** Claims of accepted insecure evidence: only what the attester asserted. */
export interface InsecureClaims {
  readonly type: 'insecure';
  readonly reportData: string;
}

export type Claims = QuoteClaims | InsecureClaims;

export type VerifyOptions = Omit<VerifyQuoteOptions, 'trustAnchor'>;

export class Verifier {
  constructor(
    readonly policy: Policy = DEFAULT_POLICY,
    private readonly trustAnchor?: VerifyQuoteOptions['trustAnchor'],
  ) {}

  /** Returns the claims of acceptable evidence; throws an AttestationError otherwise. */
  verify(evidence: Evidence, options: VerifyOptions = {}): Claims {
    if (evidence.kind === 'insecure') {
      if (!this.policy.allowInsecure) {
        throw new PolicyViolationError('allowInsecure', 'evidence is labelled insecure (no TEE)');
      }
      checkReportData(evidence.reportData, options.expectedReportData);
      return { type: 'insecure', reportData: toHex(evidence.reportData) };
    }
    const claims = verifyQuote(evidence.quote, {
      ...options,
      ...(this.trustAnchor && { trustAnchor: this.trustAnchor }),
    });
    enforcePolicy(claims, this.policy);
    return claims;
  }
}
