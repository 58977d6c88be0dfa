// TCB Info (SGX versions 2 and 3, TDX version 3) as served by Intel PCS, validated into types.
import { toHex } from './bytes.js';
import { CollateralError } from './errors.js';
import { JsonObject } from './json-fields.js';
import {
  type IsvSvnLevel,
  readAdvisoryIds,
  readIsvSvnLevels,
  readStatus,
  type TcbStatus,
} from './tcb-status.js';

export interface TcbLevel {
  /** SGX TCB component SVNs 1..16. */
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  /** TDX TCB component SVNs 1..16 (TDX TCB Info only), compared with TEE_TCB_SVN. */
  readonly tdxComponents: readonly number[] | undefined;
  readonly tcbDate: string;
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** Expected identity of the TDX module (SEAM): MRSIGNERSEAM and masked SEAMATTRIBUTES. */
export interface TdxModule {
  readonly mrSigner: Uint8Array;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
}

export interface TdxModuleIdentity extends TdxModule {
  /** "TDX_" + two hex digits of the module's major version (TEE_TCB_SVN[1]). */
  readonly id: string;
  readonly levels: readonly IsvSvnLevel[];
}

export interface TcbInfo {
  readonly id: 'SGX' | 'TDX';
  readonly version: number;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  /** Lower-case hex, as PlatformTcb. */
  readonly fmspc: string;
  readonly pceId: string;
  readonly tcbEvaluationDataNumber: number | undefined;
  readonly levels: readonly TcbLevel[];
  readonly tdxModule: TdxModule | undefined;
  readonly tdxModuleIdentities: readonly TdxModuleIdentity[];
}

const fail = (field: string, detail: string) => new CollateralError(field, detail);

export function parseTcbInfo(value: unknown): TcbInfo {
  const info = JsonObject.from(value, 'tcbInfo', fail);
  const version = info.integer('version');
  // Version 2 predates the id member and covers SGX only.
  const id = version === 2 ? 'SGX' : info.oneOf('id', ['SGX', 'TDX'] as const);
  if (!(id === 'SGX' ? [2, 3] : [3]).includes(version)) {
    throw fail('tcbInfo.version', `${id} TCB Info version ${version} is not supported`);
  }
  return {
    id,
    version,
    issueDate: info.date('issueDate'),
    nextUpdate: info.date('nextUpdate'),
    fmspc: toHex(info.hex('fmspc', 6)),
    pceId: toHex(info.hex('pceId', 2)),
    tcbEvaluationDataNumber: info.has('tcbEvaluationDataNumber')
      ? info.integer('tcbEvaluationDataNumber')
      : undefined,
    levels: info.objects('tcbLevels').map((level) => readLevel(level, version, id)),
    tdxModule: info.has('tdxModule') ? readModule(info.object('tdxModule')) : undefined,
    tdxModuleIdentities: info.has('tdxModuleIdentities')
      ? info.objects('tdxModuleIdentities').map((identity) => ({
          id: identity.string('id'),
          ...readModule(identity),
          levels: readIsvSvnLevels(identity),
        }))
      : [],
  };
}

function readLevel(level: JsonObject, version: number, id: 'SGX' | 'TDX'): TcbLevel {
  const tcb = level.object('tcb');
  const svns = (key: string): number[] => {
    const components = tcb.objects(key);
    if (components.length !== 16) throw fail(`${tcb.path}.${key}`, 'expected 16 components');
    return components.map((component) => component.integer('svn', 255));
  };
  const sgxComponents =
    version === 2
      ? Array.from({ length: 16 }, (_, i) =>
          tcb.integer(`sgxtcbcomp${String(i + 1).padStart(2, '0')}svn`, 255),
        )
      : svns('sgxtcbcomponents');
  return {
    sgxComponents,
    pceSvn: tcb.integer('pcesvn', 0xffff),
    tdxComponents: id === 'TDX' ? svns('tdxtcbcomponents') : undefined,
    tcbDate: level.string('tcbDate'),
    status: readStatus(level),
    advisoryIds: readAdvisoryIds(level),
  };
}

function readModule(module: JsonObject): TdxModule {
  return {
    mrSigner: module.hex('mrsigner', 48),
    attributes: module.hex('attributes', 8),
    attributesMask: module.hex('attributesMask', 8),
  };
}
