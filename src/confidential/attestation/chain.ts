// Certificate-path validation for Intel's two-or-three-level chains, pinned to one trust anchor.
import { bytesEqual } from './bytes.js';
import { verifyP256 } from './crypto.js';
import type { AttestationError } from './errors.js';
import { type Certificate, OID_ECDSA_WITH_SHA256, sameCertificate } from './x509.js';

/** Builds the error for a failed check of one chain, so quotes and collateral report their own type. */
export type ChainFailure = (detail: string) => AttestationError;

/**
 * Checks that `chain` (leaf first) links by name and ECDSA P-256 signature up to `anchor`, that
 * every issuer is a CA and that every certificate, anchor included, is valid at `at`. The chain
 * may include the anchor itself or stop just below it. Returns the full path, anchor last.
 */
export function verifyChain(
  chain: readonly Certificate[],
  anchor: Certificate,
  at: Date,
  fail: ChainFailure,
): Certificate[] {
  const last = chain[chain.length - 1];
  if (last === undefined) throw fail('no certificates');
  if (!sameCertificate(last, anchor) && bytesEqual(last.issuer, last.subject)) {
    throw fail(`chain ends at root '${last.commonName}', which is not the pinned trust anchor`);
  }
  const path = sameCertificate(last, anchor) ? [...chain] : [...chain, anchor];
  for (const [i, cert] of path.slice(0, -1).entries()) {
    const issuer = path[i + 1] as Certificate;
    if (!bytesEqual(cert.issuer, issuer.subject)) {
      throw fail(`'${cert.commonName}' is not issued by '${issuer.commonName}'`);
    }
    if (!issuer.isCa) throw fail(`issuer '${issuer.commonName}' is not a CA certificate`);
    if (cert.signatureAlgorithm !== OID_ECDSA_WITH_SHA256) {
      throw fail(
        `'${cert.commonName}' is signed with ${cert.signatureAlgorithm}, not ecdsa-with-SHA256`,
      );
    }
    if (!verifyP256(issuer.spki, cert.tbs, cert.signature, 'der')) {
      throw fail(`signature on '${cert.commonName}' does not verify with '${issuer.commonName}'`);
    }
  }
  for (const cert of path) {
    if (at < cert.notBefore || at > cert.notAfter) {
      throw fail(
        `'${cert.commonName}' is valid ${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()}, not at ${at.toISOString()}`,
      );
    }
  }
  return path;
}
