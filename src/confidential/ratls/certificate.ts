// Building an RA-TLS certificate: a fresh ECDSA P-384 key pair that never leaves memory, and a
// self-signed X.509 certificate whose extensions carry evidence committing to its public key.
// P-384 because Gramine generates P-384 keys and its verifier accepts nothing else.
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x509 from '@peculiar/asn1-x509';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { concatBytes } from '../attestation/bytes.js';
import type { Attester } from '../attesters/attester.js';
import { diceClaims, encodeDiceEvidence } from './dice.js';
import {
  OID_LEGACY_QUOTE_GRAMINE,
  OID_SEPAL_SOFTWARE_EVIDENCE,
  OID_TCG_DICE_TAGGED_EVIDENCE,
} from './oids.js';

const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATION = '2.5.4.10';

export interface RaTlsCertificateOptions {
  /** Validity period; by default one hour in the past to 30 days ahead (clock skew margin). */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /**
   * For quote evidence, also write TCG DICE tagged evidence (a second quote), as Gramine >= 1.8
   * does. Default true.
   */
  readonly dice?: boolean;
  /**
   * More extensions, made once the key pair exists (e.g. a signature by a long-term identity key
   * over the new public key, see deploy/attested-tls.ts). `spki` is the DER SubjectPublicKeyInfo.
   */
  readonly extensions?: (
    spki: Uint8Array,
  ) => readonly { readonly oid: string; readonly value: Uint8Array }[];
}

export interface RaTlsIdentity {
  /** The private key: in memory only, never written anywhere. */
  readonly privateKey: KeyObject;
  readonly certificate: Uint8Array;
  readonly certificatePem: string;
  /** Which evidence the certificate carries. */
  readonly evidence: readonly ('legacy-quote' | 'dice' | 'software')[];
}

/**
 * The report data that binds evidence to `bytes`: SHA-256(bytes) || 32 zero bytes. Gramine
 * binds the DER SubjectPublicKeyInfo this way (legacy extension) or the DICE claims map.
 */
export const bindingReportData = (bytes: Uint8Array): Uint8Array =>
  concatBytes(new Uint8Array(createHash('sha256').update(bytes).digest()), new Uint8Array(32));

export async function createRaTlsIdentity(
  attester: Attester,
  options: RaTlsCertificateOptions = {},
): Promise<RaTlsIdentity> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const evidence = await attester.evidence(bindingReportData(spki));
  const extensions: x509.Extension[] = [];
  const kinds: RaTlsIdentity['evidence'][number][] = [];
  if (evidence.kind === 'software') {
    extensions.push(extension(OID_SEPAL_SOFTWARE_EVIDENCE, evidence.evidence));
    kinds.push('software');
  } else {
    // The legacy extension is Gramine's, for SGX quotes; TDX quotes travel only as DICE
    // evidence (CBOR tag 60000 is any Intel TEE quote).
    if (attester.kind !== 'tdx') {
      extensions.push(extension(OID_LEGACY_QUOTE_GRAMINE, evidence.quote));
      kinds.push('legacy-quote');
    }
    if (attester.kind === 'tdx' || (options.dice ?? true)) {
      const claims = diceClaims(spki);
      const dice = await attester.evidence(bindingReportData(claims));
      if (dice.kind !== 'dcap-quote') throw new Error('the attester changed evidence kind');
      extensions.push(
        extension(OID_TCG_DICE_TAGGED_EVIDENCE, encodeDiceEvidence(dice.quote, claims)),
      );
      kinds.push('dice');
    }
  }
  for (const { oid, value } of options.extensions?.(spki) ?? []) {
    extensions.push(extension(oid, value));
  }
  const now = Date.now();
  const certificate = selfSign(privateKey, spki, extensions, {
    notBefore: options.notBefore ?? new Date(now - 3600_000),
    notAfter: options.notAfter ?? new Date(now + 30 * 86400_000),
  });
  return {
    privateKey,
    certificate,
    certificatePem: toPem(certificate),
    evidence: kinds,
  };
}

/**
 * A self-signed certificate for `spki` with the given extensions, signed by `privateKey`
 * (ECDSA P-384, SHA-384). Exported for tests that need certificates Sepal would not make.
 */
export function selfSign(
  privateKey: KeyObject,
  spki: Uint8Array,
  extensions: readonly x509.Extension[],
  validity: { notBefore: Date; notAfter: Date },
): Uint8Array {
  const name = new x509.Name([
    rdn(OID_COMMON_NAME, 'Sepal RA-TLS'),
    rdn(OID_ORGANIZATION, 'Sepal'),
  ]);
  const algorithm = new x509.AlgorithmIdentifier({ algorithm: OID_ECDSA_WITH_SHA384 });
  const serial = randomBytes(16);
  // A positive INTEGER in minimal DER: top bit clear (not negative) and the first byte non-zero
  // (a leading zero byte before one < 0x80 is illegal padding, which OpenSSL refuses).
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  const tbs = new x509.TBSCertificate({
    version: x509.Version.v3,
    serialNumber: toArrayBuffer(serial),
    signature: algorithm,
    issuer: name,
    subject: name,
    validity: new x509.Validity(validity),
    subjectPublicKeyInfo: AsnConvert.parse(spki, x509.SubjectPublicKeyInfo),
    extensions: new x509.Extensions([
      extension(
        x509.id_ce_basicConstraints,
        AsnConvert.serialize(new x509.BasicConstraints({ cA: false })),
      ),
      ...extensions,
    ]),
  });
  const signature = sign('sha384', new Uint8Array(AsnConvert.serialize(tbs)), privateKey);
  const certificate = new x509.Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: toArrayBuffer(signature),
  });
  return new Uint8Array(AsnConvert.serialize(certificate));
}

export function extension(oid: string, value: Uint8Array | ArrayBuffer): x509.Extension {
  return new x509.Extension({
    extnID: oid,
    critical: false,
    extnValue: new OctetString(toArrayBuffer(new Uint8Array(value))),
  });
}

function rdn(type: string, value: string): x509.RelativeDistinguishedName {
  return new x509.RelativeDistinguishedName([
    new x509.AttributeTypeAndValue({ type, value: new x509.AttributeValue({ utf8String: value }) }),
  ]);
}

const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

export function toPem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
