// Verification collateral: Intel-signed TCB Info / QE Identity JSON and the CRLs of the PCK
// hierarchy. This module turns the served forms into `Collateral` and checks their signatures,
// chains and validity windows; what they say about a quote is tcb-evaluate.ts's job.
import { fromHex } from './bytes.js';
import { verifyChain } from './chain.js';
import { type Crl, checkCrl, parseCrl } from './crl.js';
import { verifyP256 } from './crypto.js';
import { CollateralError, QuoteVerificationError, collateralFormatError } from './errors.js';
import { JsonObject, parseJson, rawMember } from './json-fields.js';
import { type EnclaveIdentity, parseEnclaveIdentity } from './qe-identity.js';
import { parseTcbInfo, type TcbInfo } from './tcb-info.js';
import { type Certificate, parseCertificate, pemCertificates } from './x509.js';

/** An Intel-signed JSON document. */
export interface SignedJson {
  /** The exact text of the signed value (the "tcbInfo" / "enclaveIdentity" member as served). */
  readonly body: string;
  /** ECDSA P-256 r || s over the UTF-8 bytes of `body`. */
  readonly signature: Uint8Array;
  /** DER certificates, signer first: PCS's TCB-Info-Issuer-Chain / SGX-Enclave-Identity-Issuer-Chain. */
  readonly issuerChain: readonly Uint8Array[];
}

/** Everything is optional; what is present is checked, and the claims say what was. */
export interface Collateral {
  readonly tcbInfo?: SignedJson;
  readonly qeIdentity?: SignedJson;
  /** DER CRL of the Intel SGX Root CA (revokes intermediate and TCB-signing certificates). */
  readonly rootCaCrl?: Uint8Array;
  /** DER CRL of the PCK Platform or Processor CA that issued the quote's PCK leaf. */
  readonly pckCrl?: Uint8Array;
}

const fail = (field: string, detail: string) => new CollateralError(field, detail);

export type SignedMember = 'tcbInfo' | 'enclaveIdentity';

/** A PCS response body {"<member>": {...}, "signature": "<hex r||s>"}, kept byte-exact. */
export function signedJsonFromResponse(
  text: string,
  member: SignedMember,
  issuerChain: readonly Uint8Array[],
): SignedJson {
  const response = JsonObject.from(parseJson(text, member, fail), `${member} response`, fail);
  const body = rawMember(text, member);
  if (body === undefined) throw fail(`${member} response`, `expected a "${member}" member`);
  return { body, signature: response.hex('signature', 64), issuerChain };
}

/** DER certificates from PEM text such as a PCS issuer-chain header (URL-decoded). */
export function certificatesFromPem(pem: string, item: string): Uint8Array[] {
  const certificates = pemCertificates(pem, item, collateralFormatError);
  if (certificates.length === 0) throw fail(item, 'expected at least one PEM certificate');
  return certificates;
}

/**
 * The JSON bundle of Phala's dcap-qvl (`get_collateral` output): PEM issuer chains, hex DER
 * CRLs, TCB Info and QE Identity as signed strings with hex signatures.
 */
export function collateralFromBundle(text: string): Collateral {
  const bundle = JsonObject.from(parseJson(text, 'collateral bundle', fail), 'collateral', fail);
  const derHex = (key: string): Uint8Array => {
    const der = fromHex(bundle.string(key));
    if (der === undefined) throw fail(`collateral.${key}`, 'expected hex DER');
    return der;
  };
  const signed = (body: string, signature: string, chain: string): SignedJson => ({
    body: bundle.string(body),
    signature: bundle.hex(signature, 64),
    issuerChain: certificatesFromPem(bundle.string(chain), `collateral.${chain}`),
  });
  return {
    tcbInfo: signed('tcb_info', 'tcb_info_signature', 'tcb_info_issuer_chain'),
    qeIdentity: signed('qe_identity', 'qe_identity_signature', 'qe_identity_issuer_chain'),
    rootCaCrl: derHex('root_ca_crl'),
    pckCrl: derHex('pck_crl'),
  };
}

export interface CheckedCollateral {
  readonly tcbInfo: TcbInfo | undefined;
  readonly qeIdentity: EnclaveIdentity | undefined;
}

/**
 * Checks the CRLs against the anchor and the quote's PCK path (anchor last) and revokes what
 * they list, then checks the signed JSON documents. Throws CollateralError for bad collateral
 * (including a revoked signer) and QuoteVerificationError for a revoked PCK certificate.
 */
export function checkCollateral(
  collateral: Collateral,
  pckPath: readonly Certificate[],
  anchor: Certificate,
  at: Date,
): CheckedCollateral {
  const rootCaCrl = collateral.rootCaCrl && parseCrl(collateral.rootCaCrl, 'root CA CRL');
  if (rootCaCrl !== undefined) {
    checkCrl(rootCaCrl, anchor, at, 'root CA CRL');
    for (const cert of pckPath.slice(1, -1)) pckNotRevoked(rootCaCrl, cert, 'root CA CRL');
  }
  if (collateral.pckCrl !== undefined) {
    const pckCrl = parseCrl(collateral.pckCrl, 'PCK CA CRL');
    const [leaf, issuer] = pckPath;
    if (leaf === undefined || issuer === undefined) throw fail('PCK CA CRL', 'no PCK issuer');
    checkCrl(pckCrl, issuer, at, 'PCK CA CRL');
    pckNotRevoked(pckCrl, leaf, 'PCK CA CRL');
  }
  const document = (signed: SignedJson, member: SignedMember): unknown =>
    checkSignedJson(signed, member, anchor, at, rootCaCrl);
  const tcbInfo = collateral.tcbInfo && parseTcbInfo(document(collateral.tcbInfo, 'tcbInfo'));
  const qeIdentity =
    collateral.qeIdentity &&
    parseEnclaveIdentity(document(collateral.qeIdentity, 'enclaveIdentity'));
  for (const [item, doc] of [
    ['TCB Info', tcbInfo],
    ['QE Identity', qeIdentity],
  ] as const) {
    if (doc !== undefined && (at < doc.issueDate || at > doc.nextUpdate)) {
      throw fail(
        item,
        `valid ${doc.issueDate.toISOString()} .. ${doc.nextUpdate.toISOString()}, not at ${at.toISOString()}`,
      );
    }
  }
  return { tcbInfo, qeIdentity };
}

function revocation(cert: Certificate, item: string): string {
  return `'${cert.commonName}' (serial ${cert.serial}) is revoked by the ${item}`;
}

/** A revoked PCK certificate condemns the quote, not the collateral. */
function pckNotRevoked(crl: Crl, cert: Certificate, item: string): void {
  if (crl.revoked.has(cert.serial)) {
    throw new QuoteVerificationError('PCK certificate chain', revocation(cert, item));
  }
}

/** Verifies chain and signature of a signed JSON document; returns its parsed value. */
function checkSignedJson(
  signed: SignedJson,
  member: SignedMember,
  anchor: Certificate,
  at: Date,
  rootCaCrl: Crl | undefined,
): unknown {
  const item = member === 'tcbInfo' ? 'TCB Info' : 'QE Identity';
  const chain = signed.issuerChain.map((der, i) =>
    parseCertificate(der, `${item} issuer chain certificate ${i}`, collateralFormatError),
  );
  verifyChain(chain, anchor, at, (detail) => fail(`${item} issuer chain`, detail));
  const signer = chain[0] as Certificate;
  if (rootCaCrl?.revoked.has(signer.serial)) {
    throw fail(`${item} issuer chain`, revocation(signer, 'root CA CRL'));
  }
  const message = new TextEncoder().encode(signed.body);
  if (!verifyP256(signer.spki, message, signed.signature, 'raw')) {
    throw fail(item, `signature does not verify with '${signer.commonName}'`);
  }
  return parseJson(signed.body, item, fail);
}
