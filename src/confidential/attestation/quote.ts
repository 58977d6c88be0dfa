// Decoding of Intel DCAP ECDSA quotes: SGX v3, and TDX v4/v5 (Intel "TDX DCAP Quote Generation
// Library" layout). Only structure is checked here; signatures and bindings are verify-quote.ts's.
// Every length field is honoured and every read is bounds-checked (ByteReader), so a malformed
// quote raises QuoteFormatError naming the field.
import { ByteReader } from './bytes.js';
import { quoteFormatError } from './errors.js';
import { type Certificate, parseCertificate, pemCertificates } from './x509.js';

export const ATTESTATION_KEY_ECDSA_P256 = 2;
export const TEE_TYPE_SGX = 0x00000000;
export const TEE_TYPE_TDX = 0x00000081;
const CERT_DATA_PCK_CHAIN = 5;
const CERT_DATA_QE_REPORT = 6;
const SGX_REPORT_BODY_SIZE = 384;
const TDX_REPORT_BODY_SIZE = { 2: 584, 3: 648 } as const;

export interface QuoteHeader {
  readonly version: 3 | 4 | 5;
  readonly attestationKeyType: number;
  readonly teeType: number;
  /** QE and PCE SVN in SGX headers; reserved (zero) in TDX headers. Not used for TCB decisions. */
  readonly qeSvn: number;
  readonly pceSvn: number;
  readonly qeVendorId: Uint8Array;
  readonly userData: Uint8Array;
}

/** An SGX enclave REPORT body (the application enclave's for SGX quotes, the QE's for all). */
export interface SgxReportBody {
  /** All 384 bytes, which is what the QE report signature covers. */
  readonly raw: Uint8Array;
  readonly cpuSvn: Uint8Array;
  readonly miscSelect: number;
  readonly isvExtProdId: Uint8Array;
  /** 16 bytes: flags (u64 LE) then XFRM (u64 LE). */
  readonly attributes: Uint8Array;
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly configId: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly configSvn: number;
  readonly isvFamilyId: Uint8Array;
  readonly reportData: Uint8Array;
}

/** A TD report body; TDX 1.5 bodies (v5 body type 3) add teeTcbSvn2 and mrServiceTd. */
export interface TdxReportBody {
  readonly teeTcbSvn: Uint8Array;
  readonly mrSeam: Uint8Array;
  readonly mrSignerSeam: Uint8Array;
  readonly seamAttributes: Uint8Array;
  readonly tdAttributes: Uint8Array;
  readonly xfam: Uint8Array;
  readonly mrTd: Uint8Array;
  readonly mrConfigId: Uint8Array;
  readonly mrOwner: Uint8Array;
  readonly mrOwnerConfig: Uint8Array;
  readonly rtmrs: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  readonly reportData: Uint8Array;
  readonly teeTcbSvn2?: Uint8Array;
  readonly mrServiceTd?: Uint8Array;
}

/** The Quoting Enclave's endorsement of the attestation key, and the PCK chain that signs it. */
export interface QeCertification {
  readonly qeReport: SgxReportBody;
  readonly qeReportSignature: Uint8Array;
  readonly qeAuthData: Uint8Array;
  /** Parsed PCK chain, leaf first, as carried in certification data type 5. */
  readonly pckChain: readonly Certificate[];
}

interface QuoteCommon {
  readonly header: QuoteHeader;
  /** Header and body: the bytes the attestation key signs. */
  readonly signedBytes: Uint8Array;
  /** Raw r || s. */
  readonly signature: Uint8Array;
  /** Raw P-256 point X || Y. */
  readonly attestationKey: Uint8Array;
  readonly certification: QeCertification;
  /** Bytes the length fields account for. */
  readonly length: number;
  /** Bytes after the quote (padding, appended text): tolerated, reported. */
  readonly trailingBytes: number;
}

export interface SgxQuote extends QuoteCommon {
  readonly type: 'sgx';
  readonly body: SgxReportBody;
}

export interface TdxQuote extends QuoteCommon {
  readonly type: 'tdx';
  readonly body: TdxReportBody;
}

export type Quote = SgxQuote | TdxQuote;

export function parseQuote(bytes: Uint8Array): Quote {
  const reader = new ByteReader(bytes, quoteFormatError);
  const header = readHeader(reader);
  const body = readBody(reader, header);
  const signedBytes = bytes.subarray(0, reader.offset);
  const signatureDataLength = reader.u32('signature data length');
  const signatureData = new ByteReader(
    reader.take(signatureDataLength, 'signature data (per its length field)'),
    quoteFormatError,
  );
  const signature = signatureData.take(64, 'quote signature');
  const attestationKey = signatureData.take(64, 'attestation public key');
  // v3 carries the QE report block inline followed by a type-5 chain; v4/v5 wrap the same block
  // and a nested type-5 chain in certification data of type 6.
  const certification =
    header.version === 3
      ? readQeCertification(signatureData)
      : readWrappedQeCertification(signatureData);
  expectConsumed(signatureData, 'signature data');
  const common = {
    header,
    signedBytes,
    signature,
    attestationKey,
    certification,
    length: reader.offset,
    trailingBytes: reader.remaining,
  };
  return body.type === 'sgx'
    ? { ...common, type: 'sgx', body: body.body }
    : { ...common, type: 'tdx', body: body.body };
}

function readHeader(reader: ByteReader): QuoteHeader {
  const version = reader.u16('header.version');
  if (version !== 3 && version !== 4 && version !== 5) {
    throw quoteFormatError('header.version', `3 (SGX), 4 or 5 (TDX), found ${version}`);
  }
  const attestationKeyType = reader.u16('header.attestationKeyType');
  if (attestationKeyType !== ATTESTATION_KEY_ECDSA_P256) {
    throw quoteFormatError(
      'header.attestationKeyType',
      `${ATTESTATION_KEY_ECDSA_P256} (ECDSA-256-with-P-256), found ${attestationKeyType}`,
    );
  }
  const teeType = reader.u32('header.teeType');
  const allowed = version === 3 ? [TEE_TYPE_SGX] : [TEE_TYPE_SGX, TEE_TYPE_TDX];
  if (!allowed.includes(teeType)) {
    throw quoteFormatError(
      'header.teeType',
      `${allowed.map((t) => `0x${t.toString(16)}`).join(' or ')} for version ${version}, found 0x${teeType.toString(16)}`,
    );
  }
  return {
    version,
    attestationKeyType,
    teeType,
    qeSvn: reader.u16('header.qeSvn'),
    pceSvn: reader.u16('header.pceSvn'),
    qeVendorId: reader.take(16, 'header.qeVendorId'),
    userData: reader.take(20, 'header.userData'),
  };
}

type Body = { type: 'sgx'; body: SgxReportBody } | { type: 'tdx'; body: TdxReportBody };

function readBody(reader: ByteReader, header: QuoteHeader): Body {
  if (header.version !== 5) {
    return header.teeType === TEE_TYPE_TDX
      ? { type: 'tdx', body: readTdxBody(reader.take(TDX_REPORT_BODY_SIZE[2], 'TD report body')) }
      : { type: 'sgx', body: readSgxBody(reader.take(SGX_REPORT_BODY_SIZE, 'SGX report body')) };
  }
  // v5: a typed, sized body. Type 1 is an SGX report, 2 a TDX 1.0 and 3 a TDX 1.5 TD report.
  const bodyType = reader.u16('body type');
  const bodySize = reader.u32('body size');
  const expectedSize =
    bodyType === 1
      ? SGX_REPORT_BODY_SIZE
      : bodyType === 2 || bodyType === 3
        ? TDX_REPORT_BODY_SIZE[bodyType]
        : undefined;
  if (expectedSize === undefined)
    throw quoteFormatError('body type', `1, 2 or 3, found ${bodyType}`);
  if (bodySize !== expectedSize) {
    throw quoteFormatError(
      'body size',
      `${expectedSize} for body type ${bodyType}, found ${bodySize}`,
    );
  }
  if ((bodyType === 1) !== (header.teeType === TEE_TYPE_SGX)) {
    throw quoteFormatError(
      'body type',
      `a body matching TEE type 0x${header.teeType.toString(16)}`,
    );
  }
  const raw = reader.take(bodySize, 'report body');
  return bodyType === 1
    ? { type: 'sgx', body: readSgxBody(raw) }
    : { type: 'tdx', body: readTdxBody(raw) };
}

function readSgxBody(raw: Uint8Array, name = 'report body'): SgxReportBody {
  const r = new ByteReader(raw, quoteFormatError);
  const field = (what: string) => `${name}.${what}`;
  const cpuSvn = r.take(16, field('cpuSvn'));
  const miscSelect = r.u32(field('miscSelect'));
  r.take(12, field('reserved1'));
  const isvExtProdId = r.take(16, field('isvExtProdId'));
  const attributes = r.take(16, field('attributes'));
  const mrEnclave = r.take(32, field('mrEnclave'));
  r.take(32, field('reserved2'));
  const mrSigner = r.take(32, field('mrSigner'));
  r.take(32, field('reserved3'));
  const configId = r.take(64, field('configId'));
  const isvProdId = r.u16(field('isvProdId'));
  const isvSvn = r.u16(field('isvSvn'));
  const configSvn = r.u16(field('configSvn'));
  r.take(42, field('reserved4'));
  const isvFamilyId = r.take(16, field('isvFamilyId'));
  const reportData = r.take(64, field('reportData'));
  return {
    raw,
    cpuSvn,
    miscSelect,
    isvExtProdId,
    attributes,
    mrEnclave,
    mrSigner,
    configId,
    isvProdId,
    isvSvn,
    configSvn,
    isvFamilyId,
    reportData,
  };
}

function readTdxBody(raw: Uint8Array): TdxReportBody {
  const r = new ByteReader(raw, quoteFormatError);
  const field = (what: string) => `TD report body.${what}`;
  const body = {
    teeTcbSvn: r.take(16, field('teeTcbSvn')),
    mrSeam: r.take(48, field('mrSeam')),
    mrSignerSeam: r.take(48, field('mrSignerSeam')),
    seamAttributes: r.take(8, field('seamAttributes')),
    tdAttributes: r.take(8, field('tdAttributes')),
    xfam: r.take(8, field('xfam')),
    mrTd: r.take(48, field('mrTd')),
    mrConfigId: r.take(48, field('mrConfigId')),
    mrOwner: r.take(48, field('mrOwner')),
    mrOwnerConfig: r.take(48, field('mrOwnerConfig')),
    rtmrs: [
      r.take(48, field('rtmr0')),
      r.take(48, field('rtmr1')),
      r.take(48, field('rtmr2')),
      r.take(48, field('rtmr3')),
    ] as const,
    reportData: r.take(64, field('reportData')),
  };
  if (r.remaining === 0) return body;
  return {
    ...body,
    teeTcbSvn2: r.take(16, field('teeTcbSvn2')),
    mrServiceTd: r.take(48, field('mrServiceTd')),
  };
}

/** Reads certification data (type u16, size u32, data) of the given type; returns its data. */
function readCertificationData(reader: ByteReader, type: number, which: string): ByteReader {
  const found = reader.u16(`${which} certification data type`);
  if (found !== type) {
    throw quoteFormatError(`${which} certification data type`, `${type}, found ${found}`);
  }
  const size = reader.u32(`${which} certification data size`);
  return new ByteReader(reader.take(size, `${which} certification data`), quoteFormatError);
}

function readWrappedQeCertification(reader: ByteReader): QeCertification {
  const wrapped = readCertificationData(reader, CERT_DATA_QE_REPORT, 'QE report');
  const certification = readQeCertification(wrapped);
  expectConsumed(wrapped, 'QE report certification data');
  return certification;
}

function readQeCertification(reader: ByteReader): QeCertification {
  const qeReport = readSgxBody(reader.take(SGX_REPORT_BODY_SIZE, 'QE report'), 'QE report');
  const qeReportSignature = reader.take(64, 'QE report signature');
  const qeAuthData = reader.take(
    reader.u16('QE authentication data size'),
    'QE authentication data',
  );
  const chainData = readCertificationData(reader, CERT_DATA_PCK_CHAIN, 'PCK chain');
  const pem = new TextDecoder().decode(chainData.rest());
  const ders = pemCertificates(pem, 'PCK certificate chain', quoteFormatError);
  if (ders.length === 0)
    throw quoteFormatError('PCK certificate chain', 'at least one PEM certificate');
  const pckChain = ders.map((der, i) =>
    parseCertificate(der, `PCK certificate chain certificate ${i}`, quoteFormatError),
  );
  return { qeReport, qeReportSignature, qeAuthData, pckChain };
}

function expectConsumed(reader: ByteReader, what: string): void {
  if (reader.remaining !== 0) {
    throw quoteFormatError(
      what,
      `to end where its length field says, found ${reader.remaining} extra bytes`,
    );
  }
}

/** Bit 1 of the SGX ATTRIBUTES flags (first byte, little-endian) is DEBUG. */
export function sgxIsDebug(body: SgxReportBody): boolean {
  return ((body.attributes[0] as number) & 0x02) !== 0;
}

/** TDATTRIBUTES bit 0 is DEBUG (the TD is not protected from the host VMM). */
export function tdxIsDebug(body: TdxReportBody): boolean {
  return ((body.tdAttributes[0] as number) & 0x01) !== 0;
}
