// Just enough X.509 decoding for Intel's PCK and TCB-signing certificates: the signed TBS bytes,
// serial, names, validity, key, basic constraints and the raw extensions. Signatures are checked
// with crypto.ts; nothing here trusts a certificate by itself.
import { bytesEqual } from './bytes.js';
import { contextTag, DerNode, Tag } from './der.js';
import type { FormatErrorFactory } from './errors.js';

export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_COMMON_NAME = '2.5.4.3';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';

export interface Certificate {
  readonly der: Uint8Array;
  /** The DER TBSCertificate, i.e. the bytes the issuer signed. */
  readonly tbs: Uint8Array;
  /** Serial number as lower-case hex of its DER content octets (same form as crl.ts uses). */
  readonly serial: string;
  /** DER Name of the issuer / subject, compared byte for byte when linking a chain. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  /** Subject common name, for messages only. */
  readonly commonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  readonly signatureAlgorithm: string;
  /** The signature BIT STRING content (a DER ECDSA-Sig-Value for ECDSA). */
  readonly signature: Uint8Array;
  readonly isCa: boolean;
  /** extnID -> extnValue content (the DER inside the OCTET STRING). */
  readonly extensions: ReadonlyMap<string, Uint8Array>;
}

export function parseCertificate(
  der: Uint8Array,
  path: string,
  fail: FormatErrorFactory,
): Certificate {
  const cert = DerNode.parse(der, path, fail).expect(Tag.sequence, 'a Certificate SEQUENCE');
  const [tbsNode, algorithm, signature] = cert.children();
  if (tbsNode === undefined || algorithm === undefined || signature === undefined) {
    throw fail(path, 'a Certificate of 3 elements (tbs, algorithm, signature)');
  }
  const tbs = tbsNode.expect(Tag.sequence, 'a TBSCertificate SEQUENCE').children();
  // The version is an optional explicit [0]; every later field sits at a fixed position after it.
  const base = tbs[0]?.tag === contextTag(0) ? 1 : 0;
  const field = (index: number, what: string): DerNode => {
    const node = tbs[base + index];
    if (node === undefined) throw fail(`${path}.tbs`, what);
    return node;
  };
  const validity = field(3, 'validity').expect(Tag.sequence, 'a Validity SEQUENCE');
  const subject = field(4, 'subject').expect(Tag.sequence, 'a subject Name');
  const extensions = readExtensions(
    tbs.find((node) => node.tag === contextTag(3)),
    fail,
  );
  return {
    der,
    tbs: tbsNode.raw,
    serial: field(0, 'serialNumber').integerHex(),
    issuer: field(2, 'issuer').expect(Tag.sequence, 'an issuer Name').raw,
    subject: subject.raw,
    commonName: commonName(subject),
    notBefore: validity.child(0, 'notBefore').time(),
    notAfter: validity.child(1, 'notAfter').time(),
    spki: field(5, 'subjectPublicKeyInfo').expect(Tag.sequence, 'a SubjectPublicKeyInfo').raw,
    signatureAlgorithm: algorithm.child(0, 'a signature algorithm OID').oid(),
    signature: signature.bitStringBytes(),
    isCa: isCa(extensions, fail, path),
    extensions,
  };
}

function readExtensions(
  wrapper: DerNode | undefined,
  fail: FormatErrorFactory,
): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (wrapper === undefined) return out;
  const list = wrapper.child(0, 'an Extensions SEQUENCE').expect(Tag.sequence, 'Extensions');
  for (const extension of list.children()) {
    const parts = extension.expect(Tag.sequence, 'an Extension SEQUENCE').children();
    const value = parts[parts.length - 1];
    if (parts.length < 2 || value === undefined) {
      throw fail(extension.path, 'an Extension with extnID and extnValue');
    }
    out.set(extension.child(0, 'extnID').oid(), value.octets());
  }
  return out;
}

function isCa(
  extensions: Map<string, Uint8Array>,
  fail: FormatErrorFactory,
  path: string,
): boolean {
  const value = extensions.get(OID_BASIC_CONSTRAINTS);
  if (value === undefined) return false;
  const constraints = DerNode.parse(value, `${path}.basicConstraints`, fail);
  const first = constraints.expect(Tag.sequence, 'a BasicConstraints SEQUENCE').children()[0];
  return first?.tag === Tag.boolean && first.boolean();
}

function commonName(name: DerNode): string {
  for (const rdn of name.children()) {
    for (const attribute of rdn.children()) {
      const [type, value] = attribute.children();
      if (type?.tag === Tag.oid && type.oid() === OID_COMMON_NAME && value !== undefined) {
        return new TextDecoder().decode(value.content);
      }
    }
  }
  return '(no common name)';
}

/**
 * The DER certificates in PEM text, in order. Text outside the BEGIN/END CERTIFICATE markers
 * (quotes NUL-terminate the chain) is ignored.
 */
export function pemCertificates(
  text: string,
  path: string,
  fail: FormatErrorFactory,
): Uint8Array[] {
  const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g)];
  return blocks.map((block, i) => {
    const body = (block[1] ?? '').replace(/\s+/g, '');
    try {
      return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
    } catch {
      throw fail(`${path} certificate ${i}`, 'valid base64 between the PEM markers');
    }
  });
}

export function sameCertificate(a: Certificate, b: Certificate): boolean {
  return bytesEqual(a.der, b.der);
}
