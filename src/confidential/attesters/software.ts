// The software attester, for development and CI where there is no TEE: its evidence is the
// manifest measurement and the report data, signed with an Ed25519 key the process holds.
// It is INSECURE: anyone with the key can produce it, and nothing shields the process.
import { toHex } from '../attestation/bytes.js';
import { createSoftwareEvidence, type Evidence } from '../attestation/index.js';
import { zeroize } from '../../crypto/bytes.js';
import { generateSigningKey, signingPublicKey } from '../signing.js';
import { type Attester, checkReportDataLength } from './attester.js';

export class SoftwareAttester implements Attester {
  readonly kind = 'software';
  readonly insecure = true;
  /** The attester's Ed25519 public key, hex (what a policy's software.signers lists). */
  readonly signer: string;
  readonly #secretKey: Uint8Array;
  #disposed = false;

  /**
   * @param measurement SHA-256 of the signed manifest this process verified at start-up.
   * @param secretKey the attester key; a fresh one (trusted by no one in advance) by default.
   */
  constructor(
    private readonly measurement: Uint8Array,
    secretKey: Uint8Array = generateSigningKey(),
  ) {
    if (measurement.length !== 32) throw new RangeError('measurement must be 32 bytes');
    this.#secretKey = Uint8Array.from(secretKey);
    this.signer = toHex(signingPublicKey(this.#secretKey));
  }

  async evidence(reportData: Uint8Array): Promise<Evidence> {
    checkReportDataLength(reportData);
    // An all-zero seed is still a valid key: signing after dispose must fail, not succeed.
    if (this.#disposed) throw new Error('the software attester was disposed');
    return {
      kind: 'software',
      evidence: createSoftwareEvidence(this.measurement, reportData, this.#secretKey),
    };
  }

  /** Overwrites the secret key; the attester is unusable afterwards. */
  dispose(): void {
    zeroize(this.#secretKey);
    this.#disposed = true;
  }
}
