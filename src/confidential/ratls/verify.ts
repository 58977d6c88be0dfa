// Verifying an RA-TLS certificate: parse it, check its self-signature and validity, then verify
// every evidence extension it carries and that each commits to the certificate's own key. A
// certificate is accepted only if it carries at least one evidence extension and all of them
// pass: one bad extension is never outvoted by a good one.
import { createHash, createPublicKey, verify } from 'node:crypto';
import {
  type Claims,
  type Collateral,
  DEFAULT_POLICY,
  type Evidence,
  type Policy,
  Verifier,
} from '../attestation/index.js';
import { bytesEqual, toHex } from '../attestation/bytes.js';
import { type Certificate, parseCertificate } from '../attestation/x509.js';
import { bindingReportData } from './certificate.js';
import { decodeDiceEvidence } from './dice.js';
import { certificateFormatError, RaTlsCertificateError } from './errors.js';
import {
  OID_LEGACY_QUOTE,
  OID_LEGACY_QUOTE_GRAMINE,
  OID_SEPAL_SOFTWARE_EVIDENCE,
  OID_TCG_DICE_TAGGED_EVIDENCE,
} from './oids.js';

export interface RaTlsVerifyOptions {
  readonly policy?: Policy;
  /** Verification time for the certificate and the quote's chain and collateral. */
  readonly at?: Date;
  readonly collateral?: Collateral;
  /** Trust anchor for quotes; the Intel SGX Root CA by default. */
  readonly trustAnchor?: Certificate;
}

export type EvidenceSource = 'legacy-quote' | 'dice' | 'software';

export interface RaTlsVerification {
  /** Claims of the first evidence found (DICE, then legacy quote, then software). */
  readonly claims: Claims;
  readonly evidence: readonly { readonly source: EvidenceSource; readonly claims: Claims }[];
  /** SHA-256 of the certificate's SubjectPublicKeyInfo, hex: the key the evidence vouches for. */
  readonly publicKeySha256: string;
}

/** Signature algorithms a self-signed RA-TLS certificate may use, by OID. */
const SIGNATURE_HASHES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10045.4.3.2', 'sha256'], // ecdsa-with-SHA256 (Gramine)
  ['1.2.840.10045.4.3.3', 'sha384'], // ecdsa-with-SHA384 (Sepal)
  ['1.2.840.10045.4.3.4', 'sha512'],
  ['1.2.840.113549.1.1.11', 'sha256'], // sha256WithRSAEncryption (Graphene)
  ['1.2.840.113549.1.1.12', 'sha384'],
  ['1.2.840.113549.1.1.13', 'sha512'],
]);

export function verifyRaTlsCertificate(
  der: Uint8Array,
  options: RaTlsVerifyOptions = {},
): RaTlsVerification {
  const at = options.at ?? new Date();
  const cert = parseCertificate(der, 'certificate', certificateFormatError);
  checkSelfSignature(cert);
  if (at < cert.notBefore || at > cert.notAfter) {
    throw new RaTlsCertificateError(
      'validity',
      `valid ${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()}, not at ${at.toISOString()}`,
    );
  }
  const found = evidenceIn(cert);
  if (found.length === 0) {
    throw new RaTlsCertificateError(
      'evidence',
      `no evidence extension (${OID_TCG_DICE_TAGGED_EVIDENCE}, ${OID_LEGACY_QUOTE} or ${OID_SEPAL_SOFTWARE_EVIDENCE})`,
    );
  }
  const verifier = new Verifier(options.policy ?? DEFAULT_POLICY, options.trustAnchor);
  const evidence = found.map(({ source, evidence, reportData }) => ({
    source,
    claims: verifier.verify(evidence, {
      at,
      expectedReportData: reportData,
      ...(options.collateral && { collateral: options.collateral }),
    }),
  }));
  return {
    claims: (evidence[0] as (typeof evidence)[number]).claims,
    evidence,
    publicKeySha256: toHex(createHash('sha256').update(cert.spki).digest()),
  };
}

interface FoundEvidence {
  readonly source: EvidenceSource;
  readonly evidence: Evidence;
  /** The report data that binds this evidence to the certificate's key. */
  readonly reportData: Uint8Array;
}

function evidenceIn(cert: Certificate): FoundEvidence[] {
  const found: FoundEvidence[] = [];
  const dice = cert.extensions.get(OID_TCG_DICE_TAGGED_EVIDENCE);
  if (dice !== undefined) {
    const decoded = decodeDiceEvidence(dice);
    const actual = createHash(decoded.pubkeyHashAlgorithm).update(cert.spki).digest();
    if (!bytesEqual(new Uint8Array(actual), decoded.pubkeyHash)) {
      throw new RaTlsCertificateError(
        'key binding',
        'the DICE claims pubkey-hash is not the hash of the certificate public key',
      );
    }
    found.push({
      source: 'dice',
      evidence: { kind: 'dcap-quote', quote: decoded.quote },
      reportData: bindingReportData(decoded.claims),
    });
  }
  const legacy = [OID_LEGACY_QUOTE_GRAMINE, OID_LEGACY_QUOTE].flatMap((oid) => {
    const value = cert.extensions.get(oid);
    return value === undefined ? [] : [value];
  });
  if (legacy.length > 1) {
    throw new RaTlsCertificateError('evidence', 'both encodings of the legacy quote extension');
  }
  for (const quote of legacy) {
    found.push({
      source: 'legacy-quote',
      evidence: { kind: 'dcap-quote', quote },
      reportData: bindingReportData(cert.spki),
    });
  }
  const software = cert.extensions.get(OID_SEPAL_SOFTWARE_EVIDENCE);
  if (software !== undefined) {
    found.push({
      source: 'software',
      evidence: { kind: 'software', evidence: software },
      reportData: bindingReportData(cert.spki),
    });
  }
  return found;
}

/**
 * A self-signed certificate must verify with its own key. In a TLS handshake the peer also
 * proves possession of that key (CertificateVerify); offline, this is what ties the extensions
 * to the key holder.
 */
function checkSelfSignature(cert: Certificate): void {
  if (!bytesEqual(cert.issuer, cert.subject)) {
    throw new RaTlsCertificateError('signature', 'the certificate is not self-signed');
  }
  const hash = SIGNATURE_HASHES.get(cert.signatureAlgorithm);
  if (hash === undefined) {
    throw new RaTlsCertificateError(
      'signature',
      `unsupported signature algorithm ${cert.signatureAlgorithm}`,
    );
  }
  let valid: boolean;
  try {
    const key = createPublicKey({ key: Buffer.from(cert.spki), format: 'der', type: 'spki' });
    valid = verify(hash, cert.tbs, key, cert.signature);
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new RaTlsCertificateError(
      'signature',
      'the self-signature does not verify with the certificate public key',
    );
  }
}
