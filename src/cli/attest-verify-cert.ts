// `sepal attest verify-cert`: verify an RA-TLS certificate (Gramine's or Sepal's) and print the
// claims of its evidence, or why it was rejected.
import { quoteFormatError } from '../confidential/attestation/index.js';
import { pemCertificates } from '../confidential/attestation/x509.js';
import {
  OID_SEPAL_SOFTWARE_EVIDENCE,
  verifyRaTlsCertificate,
} from '../confidential/ratls/index.js';
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

const HELP = `Usage: sepal attest verify-cert <certificate> [options]

Verifies an RA-TLS certificate (DER or PEM): its self-signature and validity, then every
evidence extension it carries, each of which must commit to the certificate's public key:
  1.2.840.113741.1337.6   SGX quote (Gramine's legacy extension, in Gramine's and the standard encoding)
  2.23.133.5.4.9          TCG DICE tagged evidence (CBOR: quote + claims with the key hash)
  ${OID_SEPAL_SOFTWARE_EVIDENCE}
                          Sepal software evidence: INSECURE, accepted only with "allowInsecure"
Quotes are verified like \`sepal attest verify\` does (PCK chain to the Intel SGX Root CA, QE and
quote signatures, collateral, policy).

Options:
  --collateral <path>   collateral bundle or directory (see sepal attest verify --help)
  --policy <file>       JSON policy (docs/attestation.md); default: any non-debug enclave or TD
  --at <ISO time>       verification time (default: now)
  --root <file>         trust anchor for quotes (default: built-in Intel SGX Root CA)
  --json                print one JSON object instead of a table
  --help                show this help

Exit status: 0 verified, 1 rejected, 2 bad arguments.`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, VERIFY_OPTIONS);
  if (values.help) return printHelp(HELP);
  const certPath = onePositional(positionals, 'certificate file (see --help)');
  const input = new Uint8Array(readInput(certPath, 'certificate'));
  try {
    const { at, policy, trustAnchor, collateral } = verifySettings(values);
    const result = verifyRaTlsCertificate(derOf(input), {
      at,
      policy,
      ...(trustAnchor && { trustAnchor }),
      ...(collateral && { collateral }),
    });
    if (values.json) {
      console.log(JSON.stringify({ verified: true, ...result }));
    } else {
      console.log(claimsTable(result.claims));
      const sources = result.evidence.map((e) => e.source).join(', ');
      console.log(`  evidence: ${sources}; key SHA-256 ${result.publicKeySha256}`);
    }
    return 0;
  } catch (error) {
    return reportRejection(error, values.json);
  }
}

/**
 * DER as given, or the first certificate of PEM text. PEM is recognised only at the start: a
 * DER RA-TLS certificate contains PEM text itself (the PCK chain inside its quote).
 */
function derOf(input: Uint8Array): Uint8Array {
  const head = new TextDecoder().decode(input.subarray(0, 64)).trimStart();
  if (!head.startsWith('-----BEGIN CERTIFICATE-----')) return input;
  const [der] = pemCertificates(new TextDecoder().decode(input), 'certificate', quoteFormatError);
  if (der === undefined) throw new UsageError('no certificate in the PEM file');
  return der;
}
