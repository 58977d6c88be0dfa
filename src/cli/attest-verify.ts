// `sepal attest verify`: verify an Intel SGX/TDX DCAP quote, optionally with collateral and a
// policy, and print its claims or why it was rejected.
import { COLLATERAL_FILES } from '../confidential/attestation/collateral-files.js';
import { fromHex } from '../confidential/attestation/bytes.js';
import { Verifier } from '../confidential/attestation/index.js';
import {
  claimsTable,
  onePositional,
  parseCommand,
  printHelp,
  readInput,
  reportRejection,
  VERIFY_OPTIONS,
  verifySettings,
} from './attest-common.js';
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
  const { values, positionals } = parseCommand(argv, {
    ...VERIFY_OPTIONS,
    'report-data': { type: 'string' },
  });
  if (values.help) return printHelp(HELP);
  const quotePath = onePositional(positionals, 'quote file (see --help)');
  const reportData =
    values['report-data'] === undefined ? undefined : parseReportData(values['report-data']);
  const quote = new Uint8Array(readInput(quotePath, 'quote'));
  try {
    const { at, policy, trustAnchor, collateral } = verifySettings(values);
    const claims = new Verifier(policy, trustAnchor).verify(
      { kind: 'dcap-quote', quote },
      {
        at,
        ...(collateral && { collateral }),
        ...(reportData && { expectedReportData: reportData }),
      },
    );
    console.log(values.json ? JSON.stringify({ verified: true, claims }) : claimsTable(claims));
    return 0;
  } catch (error) {
    return reportRejection(error, values.json);
  }
}

function parseReportData(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes?.length !== 64) throw new UsageError('--report-data: expected 128 hex digits');
  return bytes;
}
