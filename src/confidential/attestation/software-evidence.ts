// Evidence from a software attester (no TEE), for development and CI. It is an Ed25519-signed
// statement "this process runs the code of manifest M and binds report data R". Nothing but the
// holder of the signing key vouches for it: a process that has the key can say anything, which
// is why it is labelled insecure in its format, its claims, and everywhere it is shown.
import { canonicalBytes } from '../canonical-json.js';
import { sign, signingPublicKey, verifySignature } from '../signing.js';
import { fromHex, toHex } from './bytes.js';
import { QuoteFormatError, QuoteVerificationError } from './errors.js';
import { JsonObject, parseJson } from './json-fields.js';
import { checkReportData } from './verify-quote.js';

export const SOFTWARE_EVIDENCE_FORMAT = 'sepal-software-evidence/v1';

export const INSECURE_WARNING =
  'INSECURE software evidence: no TEE vouches for it; accept it only for development';

/** Claims of verified software evidence: only what the attester's key signed. */
export interface InsecureClaims {
  readonly type: 'insecure';
  readonly insecure: true;
  readonly warning: typeof INSECURE_WARNING;
  /** SHA-256 of the signed integrity manifest the attester runs, hex. */
  readonly measurement: string;
  /** The attester's Ed25519 public key, hex. */
  readonly signer: string;
  readonly reportData: string;
}

interface Statement {
  readonly format: typeof SOFTWARE_EVIDENCE_FORMAT;
  readonly insecure: true;
  readonly measurement: string;
  readonly reportData: string;
  readonly signer: string;
}

/** Encodes signed software evidence (canonical JSON bytes). */
export function createSoftwareEvidence(
  measurement: Uint8Array,
  reportData: Uint8Array,
  secretKey: Uint8Array,
): Uint8Array {
  if (measurement.length !== 32) throw new RangeError('measurement must be 32 bytes');
  if (reportData.length !== 64) throw new RangeError('report data must be 64 bytes');
  const statement: Statement = {
    format: SOFTWARE_EVIDENCE_FORMAT,
    insecure: true,
    measurement: toHex(measurement),
    reportData: toHex(reportData),
    signer: toHex(signingPublicKey(secretKey)),
  };
  const signature = toHex(sign(canonicalBytes({ ...statement }), secretKey));
  return canonicalBytes({ ...statement, signature });
}

const fail = (field: string, expected: string) =>
  new QuoteFormatError(`software evidence ${field}`, expected);

/** Checks the statement's signature by the key it names, and the report data binding. */
export function verifySoftwareEvidence(
  evidence: Uint8Array,
  expectedReportData?: Uint8Array,
): InsecureClaims {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(evidence);
  const object = JsonObject.from(parseJson(text, '(document)', fail), '', fail);
  object.onlyKeys(['format', 'insecure', 'measurement', 'reportData', 'signer', 'signature']);
  object.oneOf('format', [SOFTWARE_EVIDENCE_FORMAT] as const);
  if (object.boolean('insecure') !== true) throw fail('insecure', 'true');
  const hex = (key: string, bytes: number) => toHex(object.hex(key, bytes));
  const statement: Statement = {
    format: SOFTWARE_EVIDENCE_FORMAT,
    insecure: true,
    measurement: hex('measurement', 32),
    reportData: hex('reportData', 64),
    signer: hex('signer', 32),
  };
  const signature = object.hex('signature', 64);
  const signer = fromHex(statement.signer) as Uint8Array;
  if (!verifySignature(signature, canonicalBytes({ ...statement }), signer)) {
    throw new QuoteVerificationError(
      'software evidence signature',
      'does not verify with the signer key it names',
    );
  }
  checkReportData(fromHex(statement.reportData) as Uint8Array, expectedReportData);
  return {
    type: 'insecure',
    insecure: true,
    warning: INSECURE_WARNING,
    measurement: statement.measurement,
    signer: statement.signer,
    reportData: statement.reportData,
  };
}
