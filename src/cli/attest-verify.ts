// `sepal attest verify`: verify an Intel SGX/TDX DCAP quote, optionally with collateral and a
// policy, and print its claims or why it was rejected.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadCollateral, COLLATERAL_FILES } from '../confidential/attestation/collateral-files.js';
import { fromHex } from '../confidential/attestation/bytes.js';
import {
  AttestationError,
  type Claims,
  DEFAULT_POLICY,
  parsePolicyText,
  quoteFormatError,
  trustAnchorFrom,
  Verifier,
} from '../confidential/attestation/index.js';
import { UsageError } from './usage.js';

const HELP = `Usage: sepal attest verify <quote> [options]

Verifies an Intel SGX (v3) or TDX (v4/v5) DCAP ECDSA quote: PCK certificate chain to the Intel
SGX Root CA, QE report signature and its binding of the attestation key, the quote signature,
then (with --collateral) CRLs, TCB Info and QE Identity, and finally the policy.

Options:
  --collateral <path>   a dcap-qvl JSON bundle (pck_crl, root_ca_crl, tcb_info, ... keys) or a
                        directory holding any of:
                          ${COLLATERAL_FILES.tcbInfo}          PCS response {"tcbInfo":...,"signature":...}, as served
                          ${COLLATERAL_FILES.qeIdentity}       PCS response {"enclaveIdentity":...,"signature":...}
                          ${COLLATERAL_FILES.signingChain} their issuer chain (PEM, signer first)
                          ${COLLATERAL_FILES.rootCaCrl}           Intel SGX Root CA CRL (DER, PEM or hex)
                          ${COLLATERAL_FILES.pckCrl}               PCK Platform/Processor CA CRL (DER, PEM or hex)
  --policy <file>       JSON policy (see docs/attestation.md); default: any non-debug enclave or TD
                        whose TCB is not Revoked
  --at <ISO time>       verification time for validity periods (default: now)
  --report-data <hex>   require these 64 bytes of report data
  --root <file>         trust anchor certificate (PEM or DER; default: built-in Intel SGX Root CA)
  --json                print one JSON object instead of a table
  --help                show this help

Exit status: 0 verified, 1 rejected, 2 bad arguments.`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [quotePath, ...extra] = positionals;
  if (quotePath === undefined || extra.length > 0) {
    throw new UsageError('expected exactly one quote file (see --help)');
  }
  const at = values.at === undefined ? new Date() : parseTime(values.at);
  const reportData =
    values['report-data'] === undefined ? undefined : parseReportData(values['report-data']);
  const quote = new Uint8Array(read(quotePath, 'quote'));
  try {
    const policy =
      values.policy === undefined
        ? DEFAULT_POLICY
        : parsePolicyText(read(values.policy, 'policy').toString('utf8'));
    const anchor =
      values.root === undefined
        ? undefined
        : trustAnchorFrom(new Uint8Array(read(values.root, 'root')), quoteFormatError);
    const collateral =
      values.collateral === undefined ? undefined : loadCollateral(values.collateral);
    const claims = new Verifier(policy, anchor).verify(
      { kind: 'dcap-quote', quote },
      {
        at,
        ...(collateral && { collateral }),
        ...(reportData && { expectedReportData: reportData }),
      },
    );
    console.log(values.json ? JSON.stringify({ verified: true, claims }) : table(claims));
    return 0;
  } catch (error) {
    if (!(error instanceof AttestationError)) throw error;
    if (values.json) {
      console.log(JSON.stringify({ verified: false, error: error.name, reason: error.reason }));
    } else {
      console.error(`rejected (${error.name}): ${error.reason}`);
    }
    return 1;
  }
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        collateral: { type: 'string' },
        policy: { type: 'string' },
        at: { type: 'string' },
        'report-data': { type: 'string' },
        root: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseTime(text: string): Date {
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(at.getTime())) {
    throw new UsageError(
      `--at: expected an ISO 8601 time such as 2025-06-20T00:00:00Z, got "${text}"`,
    );
  }
  return at;
}

function parseReportData(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes?.length !== 64) throw new UsageError('--report-data: expected 128 hex digits');
  return bytes;
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read ${what} file ${path}: ${(error as Error).message}`);
  }
}

/** Claims as an aligned two-column table; null (not evaluated / not present) shows as '-'. */
function table(claims: Claims): string {
  const rows = Object.entries(claims).flatMap(([key, value]): [string, string][] => {
    if (Array.isArray(value)) return [[key, value.length === 0 ? '(none)' : value.join(', ')]];
    if (value !== null && typeof value === 'object') {
      return Object.entries(value).map(([sub, v]) => [`${key}.${sub}`, String(v)]);
    }
    return [[key, value === null ? '-' : String(value)]];
  });
  const width = Math.max(...rows.map(([key]) => key.length));
  return ['verified', ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`)].join('\n');
}
