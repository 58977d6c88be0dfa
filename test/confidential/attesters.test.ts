// Attesters and the appraisal of software evidence: the Gramine attester against a fake
// /dev/attestation, the software attester's evidence, and the policy gate on insecure evidence.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createSoftwareEvidence,
  parsePolicy,
  PolicyError,
  PolicyViolationError,
  QuoteVerificationError,
  Verifier,
} from '../../src/confidential/attestation/index.js';
import {
  GramineAttester,
  NotInEnclaveError,
  SoftwareAttester,
} from '../../src/confidential/attesters/index.js';
import { readGramineSealingKey } from '../../src/confidential/sealed/index.js';
import { generateSigningKey } from '../../src/confidential/signing.js';
import { bytesToHex as toHex, hexToBytes } from '../../src/crypto/bytes.js';
import { bytes } from './vectors.js';

const scratch = mkdtempSync(join(tmpdir(), 'sepal-attesters-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const refusedBy = (rule: string) => (error: unknown) =>
  error instanceof PolicyViolationError && error.rule === rule;

/** A directory laid out like Gramine's /dev/attestation, answering with a fixed real quote. */
function fakeAttestationDir(type: string): string {
  const dir = mkdtempSync(join(scratch, 'dev-attestation-'));
  writeFileSync(join(dir, 'attestation_type'), `${type}\n`);
  writeFileSync(join(dir, 'quote'), bytes('sgx/gramine/gramine_ratls_legacy_quote_v3.bin'));
  return dir;
}
// The report data of that quote (SHA-256 of its RA-TLS key, then zeros), per the vector README.
const QUOTE_REPORT_DATA = hexToBytes(
  '44f4dcf977f4990e4e94c29e8590727b754a4477f0249d3685887cff7f2ba484' + '00'.repeat(32),
);

describe('Gramine attester', () => {
  it('writes user_report_data and returns the quote from the quote file', async () => {
    const dir = fakeAttestationDir('dcap');
    const attester = await GramineAttester.open(dir);
    const evidence = await attester.evidence(QUOTE_REPORT_DATA);
    assert.equal(evidence.kind, 'dcap-quote');
    assert.deepEqual(
      new Uint8Array(readFileSync(join(dir, 'user_report_data'))),
      QUOTE_REPORT_DATA,
    );
  });

  it('refuses a quote that does not carry the requested report data', async () => {
    const attester = await GramineAttester.open(fakeAttestationDir('dcap'));
    await assert.rejects(
      attester.evidence(new Uint8Array(64).fill(1)),
      /does not carry the requested/,
    );
  });

  it('says clearly when it is not inside an enclave, or attestation is off', async () => {
    await assert.rejects(GramineAttester.open(join(scratch, 'absent')), NotInEnclaveError);
    await assert.rejects(GramineAttester.open(fakeAttestationDir('none')), /not "dcap"/);
  });

  it('requires 64 bytes of report data', async () => {
    const attester = await GramineAttester.open(fakeAttestationDir('dcap'));
    await assert.rejects(attester.evidence(new Uint8Array(32)), RangeError);
  });

  it('reads the enclave sealing key, with a clear error outside an enclave', async () => {
    const keys = join(scratch, 'keys');
    mkdirSync(keys);
    writeFileSync(join(keys, '_sgx_mrenclave'), new Uint8Array(16).fill(9));
    assert.deepEqual(
      await readGramineSealingKey('_sgx_mrenclave', keys),
      new Uint8Array(16).fill(9),
    );
    await assert.rejects(readGramineSealingKey('_sgx_mrsigner', keys), NotInEnclaveError);
  });
});

describe('software attester and insecure evidence', () => {
  const measurement = new Uint8Array(32).fill(0xab);
  const reportData = new Uint8Array(64).fill(7);
  const allowAll = parsePolicy({ allowInsecure: true });

  it('is refused by the default policy, before anything else is checked', async () => {
    const evidence = await new SoftwareAttester(measurement).evidence(reportData);
    assert.throws(() => new Verifier().verify(evidence), refusedBy('allowInsecure'));
    const garbage = { kind: 'software', evidence: new Uint8Array(3) } as const;
    assert.throws(() => new Verifier().verify(garbage), refusedBy('allowInsecure'));
  });

  it('yields claims labelled insecure when the policy allows it', async () => {
    const attester = new SoftwareAttester(measurement);
    const claims = new Verifier(allowAll).verify(await attester.evidence(reportData), {
      expectedReportData: reportData,
    });
    assert.equal(claims.type, 'insecure');
    assert.ok(claims.type === 'insecure' && claims.insecure);
    assert.match(JSON.stringify(claims), /INSECURE/);
    assert.equal(claims.type === 'insecure' && claims.measurement, toHex(measurement));
    assert.equal(claims.type === 'insecure' && claims.signer, attester.signer);
  });

  it('checks the report data binding', async () => {
    const evidence = await new SoftwareAttester(measurement).evidence(reportData);
    assert.throws(
      () => new Verifier(allowAll).verify(evidence, { expectedReportData: new Uint8Array(64) }),
      QuoteVerificationError,
    );
  });

  it('refuses evidence whose statement was altered after signing', () => {
    const evidence = createSoftwareEvidence(measurement, reportData, generateSigningKey());
    const text = new TextDecoder()
      .decode(evidence)
      .replace(/"measurement":"ab/, '"measurement":"cd');
    const altered = { kind: 'software', evidence: new TextEncoder().encode(text) } as const;
    assert.throws(() => new Verifier(allowAll).verify(altered), /software evidence signature/);
  });

  it('narrows accepted measurements and signers with the policy software section', async () => {
    const key = generateSigningKey();
    const attester = new SoftwareAttester(measurement, key);
    const evidence = await attester.evidence(reportData);
    const policy = (software: object) => parsePolicy({ allowInsecure: true, software });
    new Verifier(policy({ measurements: [toHex(measurement)], signers: [attester.signer] })).verify(
      evidence,
    );
    assert.throws(
      () => new Verifier(policy({ measurements: ['00'.repeat(32)] })).verify(evidence),
      refusedBy('software.measurements'),
    );
    assert.throws(
      () => new Verifier(policy({ signers: ['00'.repeat(32)] })).verify(evidence),
      refusedBy('software.signers'),
    );
  });

  it('rejects a software policy section without allowInsecure', () => {
    assert.throws(() => parsePolicy({ software: {} }), PolicyError);
    assert.throws(() => parsePolicy({ allowInsecure: true, software: { other: 1 } }), PolicyError);
  });

  it('cannot sign after dispose', async () => {
    const attester = new SoftwareAttester(measurement);
    attester.dispose();
    await assert.rejects(attester.evidence(reportData), /disposed/);
  });
});
