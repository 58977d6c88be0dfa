// Certificate revocation lists (RFC 5280 section 5), decoded with der.ts and checked against
// the certificate that should have issued them.
import { bytesEqual } from './bytes.js';
import { verifyP256 } from './crypto.js';
import { DerNode, Tag, contextTag } from './der.js';
import { CollateralError, collateralFormatError } from './errors.js';
import { type Certificate, OID_ECDSA_WITH_SHA256 } from './x509.js';

export interface Crl {
  readonly tbs: Uint8Array;
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Revoked serial numbers, lower-case hex of the INTEGER content octets (as x509.ts). */
  readonly revoked: ReadonlySet<string>;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
}

export function parseCrl(der: Uint8Array, item: string): Crl {
  const root = DerNode.parse(der, item, collateralFormatError).expect(
    Tag.sequence,
    'a CRL SEQUENCE',
  );
  const [tbsNode, algorithm, signature] = root.children();
  if (tbsNode === undefined || algorithm === undefined || signature === undefined) {
    throw collateralFormatError(item, 'a CertificateList of 3 elements');
  }
  const fields = tbsNode.expect(Tag.sequence, 'a TBSCertList SEQUENCE').children();
  // version is optional (absent for v1 CRLs), nextUpdate and revokedCertificates too: walk in order.
  let index = fields[0]?.tag === Tag.integer ? 1 : 0;
  const next = (what: string): DerNode => {
    const node = fields[index++];
    if (node === undefined) throw collateralFormatError(`${item} TBSCertList`, what);
    return node;
  };
  next('signature algorithm');
  const issuer = next('issuer Name').expect(Tag.sequence, 'an issuer Name').raw;
  const thisUpdate = next('thisUpdate').time();
  const nextUpdate = fields[index]?.isTime() ? next('nextUpdate').time() : undefined;
  const revoked = new Set<string>();
  if (fields[index]?.tag === Tag.sequence) {
    for (const entry of next('revokedCertificates').children()) {
      revoked.add(entry.expect(Tag.sequence, 'a revoked entry').child(0, 'serial').integerHex());
    }
  }
  const rest = fields[index];
  if (rest !== undefined && (rest.tag !== contextTag(0) || index !== fields.length - 1)) {
    throw collateralFormatError(
      `${item} TBSCertList`,
      'only crlExtensions [0] after the revoked list',
    );
  }
  return {
    tbs: tbsNode.raw,
    issuer,
    thisUpdate,
    nextUpdate,
    revoked,
    signatureAlgorithm: algorithm.child(0, 'a signature algorithm OID').oid(),
    signature: signature.bitStringBytes(),
  };
}

/** Checks that `crl` was issued and signed by `issuer` and is current at `at`. */
export function checkCrl(crl: Crl, issuer: Certificate, at: Date, item: string): void {
  if (!bytesEqual(crl.issuer, issuer.subject)) {
    throw new CollateralError(item, `not issued by '${issuer.commonName}'`);
  }
  if (
    crl.signatureAlgorithm !== OID_ECDSA_WITH_SHA256 ||
    !verifyP256(issuer.spki, crl.tbs, crl.signature, 'der')
  ) {
    throw new CollateralError(item, `signature does not verify with '${issuer.commonName}'`);
  }
  if (crl.nextUpdate === undefined) throw new CollateralError(item, 'has no nextUpdate');
  if (at < crl.thisUpdate || at > crl.nextUpdate) {
    throw new CollateralError(
      item,
      `valid ${crl.thisUpdate.toISOString()} .. ${crl.nextUpdate.toISOString()}, not at ${at.toISOString()}`,
    );
  }
}
