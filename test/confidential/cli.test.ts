// `sepal attest verify` end to end: output, exit status, collateral directory layout.
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/attest-verify.js';
import { UsageError } from '../../src/cli/usage.js';
import { runCli } from './run-cli.js';
import { quoteVector, vectorPath } from './vectors.js';

const run = (argv: string[]) => runCli(main, argv);

const scratch = mkdtempSync(join(tmpdir(), 'sepal-attest-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('sepal attest verify', () => {
  const tdx = quoteVector('tdx/dcap-rs/quote_tdx_00806f050000.dat');

  it('verifies a TDX quote with a collateral directory and prints JSON', async () => {
    const dir = join(scratch, 'collateral');
    mkdirSync(dir);
    const files: Record<string, string> = {
      'tcbinfo.json': 'tdx/dcap-rs/tcbinfov3_00806f050000.json',
      'qeidentity.json': 'tdx/dcap-rs/qeidentityv2_apiv4.json',
      'tcb-signing-chain.pem': 'intel/tcb_signing_chain_2018-2025.pem',
      'root-ca.crl': 'tdx/dcap-rs/intel_root_ca_crl.der',
      'pck.crl': 'tdx/dcap-rs/pck_platform_crl.der',
    };
    for (const [name, source] of Object.entries(files))
      copyFileSync(vectorPath(source), join(dir, name));
    const { status, out } = await run([
      vectorPath(tdx.file),
      '--collateral',
      dir,
      '--at',
      tdx.at,
      '--json',
    ]);
    assert.equal(status, 0);
    const result = JSON.parse(out) as { verified: boolean; claims: Record<string, unknown> };
    assert.equal(result.verified, true);
    assert.equal(result.claims['mrtd'], tdx.measurement);
    assert.equal(result.claims['tcbStatus'], tdx.tcbStatus);
    assert.deepEqual(result.claims['collateral'], {
      tcbInfo: true,
      qeIdentity: true,
      rootCaCrl: true,
      pckCrl: true,
    });
  });

  it('accepts a dcap-qvl collateral bundle and prints a table', async () => {
    const vector = quoteVector('sgx/phala/sgx_quote_v3.bin');
    const bundle = vectorPath('sgx/phala/sgx_quote_collateral.json');
    const { status, out } = await run([
      vectorPath(vector.file),
      '--collateral',
      bundle,
      '--at',
      vector.at,
    ]);
    assert.equal(status, 0);
    assert.match(out, new RegExp(`mrenclave\\s+${vector.measurement}`));
    assert.match(out, /tcbStatus\s+ConfigurationAndSWHardeningNeeded/);
  });

  it('exits 1 with the reason when the policy refuses the quote', async () => {
    const policy = join(scratch, 'policy.json');
    writeFileSync(policy, JSON.stringify({ tdx: { mrtd: ['00'.repeat(48)] } }));
    const { status, err } = await run([vectorPath(tdx.file), '--policy', policy, '--at', tdx.at]);
    assert.equal(status, 1);
    assert.match(err, /PolicyViolationError.*tdx\.mrtd/);
  });

  it('exits 1 when the chain is not valid at --at', async () => {
    const { status, out } = await run([
      vectorPath(tdx.file),
      '--at',
      '2051-01-01T00:00:00Z',
      '--json',
    ]);
    assert.equal(status, 1);
    const result = JSON.parse(out) as { verified: boolean; error: string; reason: string };
    assert.equal(result.verified, false);
    assert.equal(result.error, 'QuoteVerificationError');
    assert.match(result.reason, /PCK certificate chain/);
  });

  it('reports an invalid policy file by field', async () => {
    const policy = join(scratch, 'bad-policy.json');
    writeFileSync(policy, JSON.stringify({ sgx: { minIsvSvn: 'high' } }));
    const { status, err } = await run([vectorPath(tdx.file), '--policy', policy, '--at', tdx.at]);
    assert.equal(status, 1);
    assert.match(err, /PolicyError.*sgx\.minIsvSvn/);
  });

  it('throws UsageError for bad arguments', async () => {
    for (const argv of [
      [],
      ['a', 'b'],
      ['q', '--at', 'yesterday'],
      ['q', '--bogus'],
      ['q', '--report-data', 'ab'],
    ]) {
      await assert.rejects(run(argv), UsageError, argv.join(' '));
    }
    await assert.rejects(run([join(scratch, 'missing.bin')]), UsageError);
  });

  it('documents the collateral layout in --help', async () => {
    const { status, out } = await run(['--help']);
    assert.equal(status, 0);
    for (const name of [
      'tcbinfo.json',
      'qeidentity.json',
      'tcb-signing-chain.pem',
      'root-ca.crl',
      'pck.crl',
    ]) {
      assert.ok(out.includes(name), name);
    }
  });
});
