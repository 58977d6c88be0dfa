import { AttestationError } from '../attestation/index.js';

/** An RA-TLS certificate is malformed, badly signed, expired, or its evidence is not bound to it. */
export class RaTlsCertificateError extends AttestationError {
  override name = 'RaTlsCertificateError';
  constructor(
    readonly check: string,
    detail: string,
  ) {
    super(`RA-TLS certificate ${check}: ${detail}`);
  }
}

export const certificateFormatError = (field: string, expected: string) =>
  new RaTlsCertificateError('format', `${field}: expected ${expected}`);
