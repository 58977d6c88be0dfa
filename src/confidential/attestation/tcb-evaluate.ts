// Intel's TCB-level rules (as in the DCAP Quote Verification Library): the platform's TCB from
// the PCK leaf (and, for TDX, TEE_TCB_SVN) selects the first TCB Info level it meets; the TDX
// module and the Quoting Enclave are checked against their identities, and their statuses are
// folded into the platform status.
import { bytesEqual, toHex } from './bytes.js';
import { CollateralError, QuoteVerificationError } from './errors.js';
import type { PlatformTcb } from './pck-extension.js';
import type { EnclaveIdentity } from './qe-identity.js';
import type { Quote, SgxReportBody, TdxReportBody } from './quote.js';
import type { TcbInfo, TcbLevel, TdxModule } from './tcb-info.js';
import { type IsvSvnLevel, matchIsvSvn, type TcbStatus } from './tcb-status.js';

export interface TcbVerdict {
  /** Platform status after folding in the TDX module and QE statuses. */
  readonly status: TcbStatus;
  /** Status of the matched TCB Info level alone. */
  readonly platformStatus: TcbStatus;
  readonly tcbDate: string;
  readonly advisoryIds: readonly string[];
  readonly tdxModuleStatus: TcbStatus | undefined;
  readonly qeStatus: TcbStatus | undefined;
}

/** Evaluates the platform TCB (and TDX module) against TCB Info. */
export function evaluateTcb(info: TcbInfo, platform: PlatformTcb, quote: Quote): TcbVerdict {
  const expectedId = quote.type === 'sgx' ? 'SGX' : 'TDX';
  if (info.id !== expectedId) {
    throw new CollateralError('TCB Info', `is ${info.id} TCB Info, the quote is ${expectedId}`);
  }
  if (info.fmspc !== platform.fmspc || info.pceId !== platform.pceId) {
    throw new CollateralError(
      'TCB Info',
      `is for FMSPC ${info.fmspc} / PCE ID ${info.pceId}, the PCK certificate says ${platform.fmspc} / ${platform.pceId}`,
    );
  }
  const module = quote.type === 'tdx' ? evaluateTdxModule(info, quote.body) : undefined;
  const level = info.levels.find((candidate) =>
    meetsLevel(candidate, platform, quote.type === 'tdx' ? quote.body : undefined, module),
  );
  if (level === undefined) {
    throw new QuoteVerificationError(
      'TCB evaluation',
      `the platform TCB (PCE SVN ${platform.pceSvn}, SGX components ${platform.sgxComponents.join(',')}${
        quote.type === 'tdx' ? `, TEE_TCB_SVN ${toHex(quote.body.teeTcbSvn)}` : ''
      }) is below every level of the TCB Info (TCB not supported)`,
    );
  }
  const status = module ? fold(level.status, module.level.status) : level.status;
  return {
    status,
    platformStatus: level.status,
    tcbDate: level.tcbDate,
    advisoryIds: union(level.advisoryIds, module?.level.advisoryIds ?? []),
    tdxModuleStatus: module?.level.status,
    qeStatus: undefined,
  };
}

function meetsLevel(
  level: TcbLevel,
  platform: PlatformTcb,
  td: TdxReportBody | undefined,
  module: ModuleMatch | undefined,
): boolean {
  if (!level.sgxComponents.every((svn, i) => (platform.sgxComponents[i] as number) >= svn)) {
    return false;
  }
  if (platform.pceSvn < level.pceSvn) return false;
  if (td === undefined) return true;
  if (level.tdxComponents === undefined) return false;
  // With module identities, TEE_TCB_SVN[0..1] (module minor/major version) are judged by the
  // module identity's levels instead of the TDX components.
  const first = module?.identified ? 2 : 0;
  return level.tdxComponents.every((svn, i) => i < first || (td.teeTcbSvn[i] as number) >= svn);
}

interface ModuleMatch {
  /** True when a tdxModuleIdentities entry (not just tdxModule) was used. */
  readonly identified: boolean;
  readonly level: Pick<IsvSvnLevel, 'status' | 'advisoryIds'>;
}

/**
 * Checks MRSIGNERSEAM and SEAMATTRIBUTES against tdxModule, or against the tdxModuleIdentities
 * entry "TDX_<major>" when TEE_TCB_SVN[1] (the module's major version) is non-zero, whose levels
 * then rate TEE_TCB_SVN[0] (its SVN).
 */
function evaluateTdxModule(info: TcbInfo, td: TdxReportBody): ModuleMatch | undefined {
  const major = td.teeTcbSvn[1] as number;
  const identityId = `TDX_${major.toString(16).padStart(2, '0').toUpperCase()}`;
  const identity =
    major > 0 && info.tdxModuleIdentities.length > 0
      ? info.tdxModuleIdentities.find((candidate) => candidate.id.toUpperCase() === identityId)
      : undefined;
  if (major > 0 && info.tdxModuleIdentities.length > 0 && identity === undefined) {
    throw new QuoteVerificationError('TDX module', `TCB Info has no identity ${identityId}`);
  }
  const expected = identity ?? info.tdxModule;
  if (expected === undefined) return undefined;
  checkModule(expected, td);
  if (identity === undefined) return undefined;
  const svn = td.teeTcbSvn[0] as number;
  const level = matchIsvSvn(identity.levels, svn);
  if (level === undefined) {
    throw new QuoteVerificationError('TDX module', `${identityId} SVN ${svn} is below every level`);
  }
  return { identified: true, level };
}

function checkModule(expected: TdxModule, td: TdxReportBody): void {
  if (!bytesEqual(expected.mrSigner, td.mrSignerSeam)) {
    throw new QuoteVerificationError(
      'TDX module',
      `MRSIGNERSEAM ${toHex(td.mrSignerSeam)} is not the expected ${toHex(expected.mrSigner)}`,
    );
  }
  if (!maskedEqual(td.seamAttributes, expected.attributesMask, expected.attributes)) {
    throw new QuoteVerificationError(
      'TDX module',
      `SEAMATTRIBUTES ${toHex(td.seamAttributes)} do not match`,
    );
  }
}

/** Checks the Quoting Enclave's report against QE Identity; returns the level its ISVSVN meets. */
export function evaluateQeIdentity(identity: EnclaveIdentity, quote: Quote): IsvSvnLevel {
  const qe: SgxReportBody = quote.certification.qeReport;
  const expectedId = quote.type === 'sgx' ? 'QE' : 'TD_QE';
  if (identity.id !== expectedId) {
    throw new CollateralError(
      'QE Identity',
      `is for ${identity.id}, the quote needs ${expectedId}`,
    );
  }
  const mismatch = (detail: string) => new QuoteVerificationError('QE identity', detail);
  if (!bytesEqual(identity.mrSigner, qe.mrSigner)) {
    throw mismatch(`QE MRSIGNER ${toHex(qe.mrSigner)} is not ${toHex(identity.mrSigner)}`);
  }
  if (identity.isvProdId !== qe.isvProdId) {
    throw mismatch(`QE ISVPRODID ${qe.isvProdId} is not ${identity.isvProdId}`);
  }
  if ((qe.miscSelect & identity.miscSelectMask) >>> 0 !== identity.miscSelect >>> 0) {
    throw mismatch(`QE MISCSELECT ${qe.miscSelect.toString(16)} does not match under the mask`);
  }
  if (!maskedEqual(qe.attributes, identity.attributesMask, identity.attributes)) {
    throw mismatch(`QE ATTRIBUTES ${toHex(qe.attributes)} do not match under the mask`);
  }
  const level = matchIsvSvn(identity.levels, qe.isvSvn);
  if (level === undefined) throw mismatch(`QE ISVSVN ${qe.isvSvn} is below every level`);
  return level;
}

/** The overall verdict once both the platform and the QE have been rated. */
export function withQe(verdict: TcbVerdict, qe: IsvSvnLevel): TcbVerdict {
  return {
    ...verdict,
    status: fold(verdict.status, qe.status),
    advisoryIds: union(verdict.advisoryIds, qe.advisoryIds),
    qeStatus: qe.status,
  };
}

/**
 * Folds a component's (TDX module or QE) status into the platform status the way QVL converges
 * them: a revoked component revokes, an out-of-date one makes the platform out of date while
 * keeping a configuration-needed note; otherwise the platform status stands.
 */
function fold(platform: TcbStatus, component: TcbStatus): TcbStatus {
  if (component === 'Revoked') return 'Revoked';
  if (component !== 'OutOfDate') return platform;
  if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate';
  if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded') {
    return 'OutOfDateConfigurationNeeded';
  }
  return platform;
}

function maskedEqual(value: Uint8Array, mask: Uint8Array, expected: Uint8Array): boolean {
  return expected.every((byte, i) => ((value[i] as number) & (mask[i] as number)) === byte);
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}
