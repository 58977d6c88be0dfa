// The Verifier: cryptographic verification of evidence followed by policy appraisal.
import type { QuoteClaims } from './claims.js';
import { PolicyViolationError } from './errors.js';
import { DEFAULT_POLICY, enforcePolicy, enforceSoftwarePolicy, type Policy } from './policy.js';
import { type InsecureClaims, verifySoftwareEvidence } from './software-evidence.js';
import { verifyQuote, type VerifyQuoteOptions } from './verify-quote.js';

/**
 * Evidence to appraise: an Intel DCAP quote, or signed evidence from a software attester that
 * runs outside any TEE and says so (software-evidence.ts).
 */
export type Evidence =
  | { readonly kind: 'dcap-quote'; readonly quote: Uint8Array }
  | { readonly kind: 'software'; readonly evidence: Uint8Array };

export type Claims = QuoteClaims | InsecureClaims;

export type VerifyOptions = Omit<VerifyQuoteOptions, 'trustAnchor'>;

export class Verifier {
  constructor(
    readonly policy: Policy = DEFAULT_POLICY,
    private readonly trustAnchor?: VerifyQuoteOptions['trustAnchor'],
  ) {}

  /** Returns the claims of acceptable evidence; throws an AttestationError otherwise. */
  verify(evidence: Evidence, options: VerifyOptions = {}): Claims {
    if (evidence.kind === 'software') {
      // Refused before it is even parsed: without allowInsecure nothing in it can matter.
      if (!this.policy.allowInsecure) {
        throw new PolicyViolationError(
          'allowInsecure',
          'the evidence is INSECURE software evidence (no TEE)',
        );
      }
      const claims = verifySoftwareEvidence(evidence.evidence, options.expectedReportData);
      enforceSoftwarePolicy(claims, this.policy);
      return claims;
    }
    const claims = verifyQuote(evidence.quote, {
      ...options,
      ...(this.trustAnchor && { trustAnchor: this.trustAnchor }),
    });
    enforcePolicy(claims, this.policy);
    return claims;
  }
}
