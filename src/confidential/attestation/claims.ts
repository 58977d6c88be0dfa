// What a verified quote attests, as plain JSON-friendly data (measurements as lower-case hex).
import { toHex } from './bytes.js';
import type { PlatformTcb } from './pck-extension.js';
import { type Quote, sgxIsDebug, tdxIsDebug } from './quote.js';
import type { TcbVerdict } from './tcb-evaluate.js';
import type { TcbStatus } from './tcb-status.js';

/** Which pieces of collateral were supplied and passed their checks. */
export interface CollateralChecked {
  readonly tcbInfo: boolean;
  readonly qeIdentity: boolean;
  readonly rootCaCrl: boolean;
  readonly pckCrl: boolean;
}

interface CommonClaims {
  readonly quoteVersion: number;
  /** 64 bytes of enclave/TD-chosen data, typically binding a key or nonce. */
  readonly reportData: string;
  readonly debug: boolean;
  readonly fmspc: string;
  readonly pceId: string;
  /** Overall TCB status; null when no TCB Info was supplied. */
  readonly tcbStatus: TcbStatus | null;
  readonly tcbDate: string | null;
  readonly advisoryIds: readonly string[];
  readonly platformTcbStatus: TcbStatus | null;
  readonly tdxModuleTcbStatus: TcbStatus | null;
  readonly qeTcbStatus: TcbStatus | null;
  readonly collateral: CollateralChecked;
  /** Bytes after the quote proper (padding or appended data); they are not signed. */
  readonly trailingBytes: number;
  readonly verifiedAt: string;
}

export interface SgxClaims extends CommonClaims {
  readonly type: 'sgx';
  readonly mrenclave: string;
  readonly mrsigner: string;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly configSvn: number;
  readonly attributes: string;
  readonly miscSelect: number;
  readonly configId: string;
}

export interface TdxClaims extends CommonClaims {
  readonly type: 'tdx';
  readonly mrtd: string;
  readonly rtmrs: readonly string[];
  readonly mrconfigid: string;
  readonly mrowner: string;
  readonly mrownerconfig: string;
  readonly mrseam: string;
  readonly mrsignerseam: string;
  readonly teeTcbSvn: string;
  readonly tdAttributes: string;
  readonly xfam: string;
  /** TDX 1.5 (quote v5 body type 3) only. */
  readonly mrservicetd: string | null;
}

export type QuoteClaims = SgxClaims | TdxClaims;

export function claimsOf(
  quote: Quote,
  platform: PlatformTcb,
  tcb: { verdict: TcbVerdict | undefined; qeStatus: TcbStatus | undefined },
  collateral: CollateralChecked,
  at: Date,
): QuoteClaims {
  const { verdict } = tcb;
  const common = {
    fmspc: platform.fmspc,
    pceId: platform.pceId,
    tcbStatus: verdict?.status ?? null,
    tcbDate: verdict?.tcbDate ?? null,
    advisoryIds: verdict?.advisoryIds ?? [],
    platformTcbStatus: verdict?.platformStatus ?? null,
    tdxModuleTcbStatus: verdict?.tdxModuleStatus ?? null,
    qeTcbStatus: tcb.qeStatus ?? null,
    collateral,
    trailingBytes: quote.trailingBytes,
    verifiedAt: at.toISOString(),
  };
  if (quote.type === 'sgx') {
    const body = quote.body;
    return {
      type: 'sgx',
      quoteVersion: quote.header.version,
      reportData: toHex(body.reportData),
      debug: sgxIsDebug(body),
      mrenclave: toHex(body.mrEnclave),
      mrsigner: toHex(body.mrSigner),
      isvProdId: body.isvProdId,
      isvSvn: body.isvSvn,
      configSvn: body.configSvn,
      attributes: toHex(body.attributes),
      miscSelect: body.miscSelect,
      configId: toHex(body.configId),
      ...common,
    };
  }
  const body = quote.body;
  return {
    type: 'tdx',
    quoteVersion: quote.header.version,
    reportData: toHex(body.reportData),
    debug: tdxIsDebug(body),
    mrtd: toHex(body.mrTd),
    rtmrs: body.rtmrs.map(toHex),
    mrconfigid: toHex(body.mrConfigId),
    mrowner: toHex(body.mrOwner),
    mrownerconfig: toHex(body.mrOwnerConfig),
    mrseam: toHex(body.mrSeam),
    mrsignerseam: toHex(body.mrSignerSeam),
    teeTcbSvn: toHex(body.teeTcbSvn),
    tdAttributes: toHex(body.tdAttributes),
    xfam: toHex(body.xfam),
    mrservicetd: body.mrServiceTd ? toHex(body.mrServiceTd) : null,
    ...common,
  };
}
