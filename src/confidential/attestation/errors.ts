// Every failure of attestation verification is an AttestationError carrying a human-readable
// `reason`; the subclass says which stage failed so callers can tell malformed input from forged
// evidence from a policy refusal without parsing messages.

export abstract class AttestationError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The quote (or a structure embedded in it) is malformed: `field` is where, `expected` what. */
export class QuoteFormatError extends AttestationError {
  override name = 'QuoteFormatError';
  constructor(
    readonly field: string,
    readonly expected: string,
  ) {
    super(`malformed ${field}: expected ${expected}`);
  }
}

/** The quote is well formed but a signature, certificate, binding or validity check failed. */
export class QuoteVerificationError extends AttestationError {
  override name = 'QuoteVerificationError';
  constructor(
    readonly check: string,
    detail: string,
  ) {
    super(`${check}: ${detail}`);
  }
}

/** Collateral (TCB Info, QE Identity, CRLs) is malformed, badly signed, stale or does not apply. */
export class CollateralError extends AttestationError {
  override name = 'CollateralError';
  constructor(
    readonly item: string,
    detail: string,
  ) {
    super(`${item}: ${detail}`);
  }
}

/** A policy document is invalid: `field` names the offending member. */
export class PolicyError extends AttestationError {
  override name = 'PolicyError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`policy ${field}: ${detail}`);
  }
}

/** Verified evidence does not satisfy the policy: `rule` names the policy member that refused it. */
export class PolicyViolationError extends AttestationError {
  override name = 'PolicyViolationError';
  constructor(
    readonly rule: string,
    detail: string,
  ) {
    super(`rejected by policy ${rule}: ${detail}`);
  }
}

/** Builds the error for a malformed binary structure; lets one decoder serve quotes and collateral. */
export type FormatErrorFactory = (field: string, expected: string) => AttestationError;

export const quoteFormatError: FormatErrorFactory = (field, expected) =>
  new QuoteFormatError(field, expected);

export const collateralFormatError: FormatErrorFactory = (field, expected) =>
  new CollateralError(field, `malformed: expected ${expected}`);
