// QE Identity (enclaveIdentity version 2) as served by Intel PCS, validated into types.
import { CollateralError } from './errors.js';
import { JsonObject } from './json-fields.js';
import { type IsvSvnLevel, readIsvSvnLevels } from './tcb-status.js';

export interface EnclaveIdentity {
  /** "QE" (SGX quoting enclave) or "TD_QE" (TDX quoting enclave). */
  readonly id: 'QE' | 'TD_QE';
  readonly version: number;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly miscSelect: number;
  readonly miscSelectMask: number;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly levels: readonly IsvSvnLevel[];
}

const fail = (field: string, detail: string) => new CollateralError(field, detail);

export function parseEnclaveIdentity(value: unknown): EnclaveIdentity {
  const identity = JsonObject.from(value, 'enclaveIdentity', fail);
  const version = identity.integer('version');
  if (version !== 2) throw fail('enclaveIdentity.version', `expected 2, found ${version}`);
  return {
    id: identity.oneOf('id', ['QE', 'TD_QE'] as const),
    version,
    issueDate: identity.date('issueDate'),
    nextUpdate: identity.date('nextUpdate'),
    miscSelect: uint32(identity, 'miscselect'),
    miscSelectMask: uint32(identity, 'miscselectMask'),
    attributes: identity.hex('attributes', 16),
    attributesMask: identity.hex('attributesMask', 16),
    mrSigner: identity.hex('mrsigner', 32),
    isvProdId: identity.integer('isvprodid', 0xffff),
    levels: readIsvSvnLevels(identity),
  };
}

/** PCS writes the u32 MISCSELECT as 8 hex digits, most significant first (the report holds it LE). */
function uint32(identity: JsonObject, key: string): number {
  return new DataView(identity.hex(key, 4).buffer).getUint32(0, false);
}
