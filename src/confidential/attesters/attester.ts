// An Attester produces evidence, bound to 64 bytes of caller-chosen report data, that a Verifier
// (attestation/verifier.ts) appraises. Report data is how evidence commits to a key or nonce.
import type { Evidence } from '../attestation/index.js';

export const REPORT_DATA_BYTES = 64;

export interface Attester {
  /**
   * 'gramine-sgx' evidence is an SGX DCAP quote, 'tdx' a TDX DCAP quote (configfs-tsm);
   * 'software' evidence is INSECURE (no TEE).
   */
  readonly kind: 'gramine-sgx' | 'tdx' | 'software';
  evidence(reportData: Uint8Array): Promise<Evidence>;
}

export function checkReportDataLength(reportData: Uint8Array): void {
  if (reportData.length !== REPORT_DATA_BYTES) {
    throw new RangeError(
      `report data must be ${REPORT_DATA_BYTES} bytes, got ${reportData.length}`,
    );
  }
}
