// Appraisal policy: which evidence a Verifier accepts once it is cryptographically sound.
// Policies are JSON documents; parsePolicy validates one and names the offending field.
import { fromHex } from './bytes.js';
import type { QuoteClaims, SgxClaims, TdxClaims } from './claims.js';
import { PolicyError, PolicyViolationError } from './errors.js';
import { JsonObject, parseJson } from './json-fields.js';
import type { InsecureClaims } from './software-evidence.js';
import { TCB_STATUSES, type TcbStatus } from './tcb-status.js';

/** Accepted SGX enclaves; an absent list or bound means "any". */
export interface SgxPolicy {
  readonly mrenclave: readonly string[] | undefined;
  readonly mrsigner: readonly string[] | undefined;
  readonly isvProdId: number | undefined;
  readonly minIsvSvn: number | undefined;
}

/** Accepted TDX guests; an absent list means "any". */
export interface TdxPolicy {
  readonly mrtd: readonly string[] | undefined;
}

/** Accepted software (insecure) evidence; an absent list means "any". */
export interface SoftwarePolicy {
  /** Manifest measurements (SHA-256 of the canonical signed manifest). */
  readonly measurements: readonly string[] | undefined;
  /** Ed25519 public keys of the software attesters. */
  readonly signers: readonly string[] | undefined;
}

export interface Policy {
  /** SGX quotes are accepted only if this section is present (TDX likewise). */
  readonly sgx: SgxPolicy | undefined;
  readonly tdx: TdxPolicy | undefined;
  /** Debug enclaves/TDs can be inspected by the host; refused unless true. */
  readonly allowDebug: boolean;
  /** TCB statuses accepted when TCB Info was evaluated. */
  readonly tcbStatuses: readonly TcbStatus[];
  /** Refuse evidence unless TCB Info, QE Identity and both CRLs were supplied and checked. */
  readonly requireCollateral: boolean;
  /** Accept evidence labelled insecure (a software attester, no TEE): for development only. */
  readonly allowInsecure: boolean;
  /** Narrows which insecure evidence is accepted; only allowed together with allowInsecure. */
  readonly software: SoftwarePolicy | undefined;
}

/** Every status but Revoked. */
const DEFAULT_TCB_STATUSES = TCB_STATUSES.filter((status) => status !== 'Revoked');

/** Any SGX enclave or TDX guest that is not in debug mode and whose TCB is not revoked. */
export const DEFAULT_POLICY: Policy = {
  sgx: { mrenclave: undefined, mrsigner: undefined, isvProdId: undefined, minIsvSvn: undefined },
  tdx: { mrtd: undefined },
  allowDebug: false,
  tcbStatuses: DEFAULT_TCB_STATUSES,
  requireCollateral: false,
  allowInsecure: false,
  software: undefined,
};

const fail = (field: string, detail: string) => new PolicyError(field, detail);

export function parsePolicyText(text: string): Policy {
  return parsePolicy(parseJson(text, '(document)', fail));
}

export function parsePolicy(value: unknown): Policy {
  const policy = JsonObject.from(value, '', fail);
  policy.onlyKeys([
    'sgx',
    'tdx',
    'allowDebug',
    'tcbStatuses',
    'requireCollateral',
    'allowInsecure',
    'software',
  ]);
  const flag = (key: string) => policy.has(key) && policy.boolean(key);
  const tcbStatuses = policy.has('tcbStatuses')
    ? policy.strings('tcbStatuses').map((status, i) => {
        if (!(TCB_STATUSES as readonly string[]).includes(status)) {
          throw fail(`tcbStatuses[${i}]`, `expected one of ${TCB_STATUSES.join(', ')}`);
        }
        return status as TcbStatus;
      })
    : DEFAULT_TCB_STATUSES;
  return {
    sgx: policy.has('sgx') ? readSgx(policy.object('sgx')) : undefined,
    tdx: policy.has('tdx') ? readTdx(policy.object('tdx')) : undefined,
    allowDebug: flag('allowDebug'),
    tcbStatuses,
    requireCollateral: flag('requireCollateral'),
    allowInsecure: flag('allowInsecure'),
    software: readSoftware(policy),
  };
}

function readSoftware(policy: JsonObject): SoftwarePolicy | undefined {
  if (!policy.has('software')) return undefined;
  // A "software" section without allowInsecure would look like permission but grant none.
  if (!(policy.has('allowInsecure') && policy.boolean('allowInsecure'))) {
    throw fail('software', 'only meaningful with "allowInsecure": true');
  }
  const software = policy.object('software');
  software.onlyKeys(['measurements', 'signers']);
  return {
    measurements: measurements(software, 'measurements', 32),
    signers: measurements(software, 'signers', 32),
  };
}

function readSgx(sgx: JsonObject): SgxPolicy {
  sgx.onlyKeys(['mrenclave', 'mrsigner', 'isvProdId', 'minIsvSvn']);
  return {
    mrenclave: measurements(sgx, 'mrenclave', 32),
    mrsigner: measurements(sgx, 'mrsigner', 32),
    isvProdId: sgx.has('isvProdId') ? sgx.integer('isvProdId', 0xffff) : undefined,
    minIsvSvn: sgx.has('minIsvSvn') ? sgx.integer('minIsvSvn', 0xffff) : undefined,
  };
}

function readTdx(tdx: JsonObject): TdxPolicy {
  tdx.onlyKeys(['mrtd']);
  return { mrtd: measurements(tdx, 'mrtd', 48) };
}

/** A list of hex values (measurements, keys) of `bytes` bytes, normalised to lower case. */
function measurements(section: JsonObject, key: string, bytes: number): string[] | undefined {
  if (!section.has(key)) return undefined;
  return section.strings(key).map((text, i) => {
    if (fromHex(text)?.length !== bytes) {
      throw fail(`${section.path}.${key}[${i}]`, `expected ${2 * bytes} hex digits`);
    }
    return text.toLowerCase();
  });
}

/** Throws PolicyViolationError unless verified quote claims satisfy `policy`. */
export function enforcePolicy(claims: QuoteClaims, policy: Policy): void {
  if (claims.debug && !policy.allowDebug) {
    const what = claims.type === 'sgx' ? 'enclave' : 'TD';
    throw new PolicyViolationError('allowDebug', `the ${what} runs in debug mode`);
  }
  if (policy.requireCollateral) {
    const missing = Object.entries(claims.collateral).filter(([, present]) => !present);
    if (missing.length > 0) {
      const names = missing.map(([name]) => name).join(', ');
      throw new PolicyViolationError('requireCollateral', `missing ${names}`);
    }
  }
  if (claims.tcbStatus !== null && !policy.tcbStatuses.includes(claims.tcbStatus)) {
    throw new PolicyViolationError('tcbStatuses', `TCB status ${claims.tcbStatus} is not accepted`);
  }
  if (claims.type === 'sgx') enforceSgx(claims, policy.sgx);
  else enforceTdx(claims, policy.tdx);
}

function enforceSgx(claims: SgxClaims, sgx: SgxPolicy | undefined): void {
  if (sgx === undefined) throw new PolicyViolationError('sgx', 'the policy has no "sgx" section');
  allowed('sgx.mrenclave', sgx.mrenclave, claims.mrenclave);
  allowed('sgx.mrsigner', sgx.mrsigner, claims.mrsigner);
  if (sgx.isvProdId !== undefined && claims.isvProdId !== sgx.isvProdId) {
    throw new PolicyViolationError(
      'sgx.isvProdId',
      `ISVPRODID ${claims.isvProdId} is not ${sgx.isvProdId}`,
    );
  }
  if (sgx.minIsvSvn !== undefined && claims.isvSvn < sgx.minIsvSvn) {
    throw new PolicyViolationError(
      'sgx.minIsvSvn',
      `ISVSVN ${claims.isvSvn} is below ${sgx.minIsvSvn}`,
    );
  }
}

function enforceTdx(claims: TdxClaims, tdx: TdxPolicy | undefined): void {
  if (tdx === undefined) throw new PolicyViolationError('tdx', 'the policy has no "tdx" section');
  allowed('tdx.mrtd', tdx.mrtd, claims.mrtd);
}

/** Throws PolicyViolationError unless verified software evidence satisfies `policy`. */
export function enforceSoftwarePolicy(claims: InsecureClaims, policy: Policy): void {
  if (!policy.allowInsecure) {
    throw new PolicyViolationError('allowInsecure', 'the evidence is INSECURE software evidence');
  }
  allowed('software.measurements', policy.software?.measurements, claims.measurement);
  allowed('software.signers', policy.software?.signers, claims.signer);
}

function allowed(rule: string, list: readonly string[] | undefined, value: string): void {
  if (list !== undefined && !list.includes(value)) {
    throw new PolicyViolationError(rule, `${value} is not in the allowed list`);
  }
}
