// The confidential-computing commands end to end: attest verify-cert, manifest, seal/unseal.
import * as assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main as verifyCert } from '../../src/cli/attest-verify-cert.js';
import * as manifest from '../../src/cli/manifest.js';
import * as seal from '../../src/cli/seal.js';
import { UsageError } from '../../src/cli/usage.js';
import { runCli } from './run-cli.js';
import { vectorPath } from './vectors.js';

const scratch = mkdtempSync(join(tmpdir(), 'sepal-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const at = ['--at', '2025-02-20T00:00:00Z'];

describe('sepal attest verify-cert', () => {
  it('verifies a real Gramine certificate with collateral and prints the claims', async () => {
    const dir = join(scratch, 'collateral');
    mkdirSync(dir);
    copyFileSync(vectorPath('sgx/dcap-rs/tcbinfov2.json'), join(dir, 'tcbinfo.json'));
    copyFileSync(vectorPath('sgx/dcap-rs/qeidentityv2.json'), join(dir, 'qeidentity.json'));
    copyFileSync(
      vectorPath('intel/tcb_signing_chain_2018-2025.pem'),
      join(dir, 'tcb-signing-chain.pem'),
    );
    const { status, out } = await runCli(verifyCert, [
      vectorPath('ratls/gramine_konvera_cert.der'),
      '--collateral',
      dir,
      ...at,
    ]);
    assert.equal(status, 0);
    assert.match(out, /^verified\n/);
    assert.match(out, /mrenclave\s+f94ccbe6a504676b/);
    assert.match(out, /tcbStatus\s+OutOfDate/);
    assert.match(out, /evidence: legacy-quote; key SHA-256 e85653f3/);
  });

  it('accepts PEM and reports both evidence extensions as JSON', async () => {
    const policy = join(scratch, 'debug-policy.json');
    writeFileSync(policy, JSON.stringify({ sgx: {}, allowDebug: true }));
    const { status, out } = await runCli(verifyCert, [
      vectorPath('ratls/intel_sgxsdk_interop_cert.pem'),
      '--policy',
      policy,
      '--json',
      ...at,
    ]);
    assert.equal(status, 0);
    const result = JSON.parse(out) as { verified: boolean; evidence: { source: string }[] };
    assert.equal(result.verified, true);
    assert.deepEqual(
      result.evidence.map((e) => e.source),
      ['dice'],
    );
  });

  it('rejects the certificate rooted at the pre-production CA, exit status 1', async () => {
    const { status, err } = await runCli(verifyCert, [
      vectorPath('ratls/graphene_sandbox_root_cert.der'),
      ...at,
    ]);
    assert.equal(status, 1);
    assert.match(err, /rejected \(QuoteVerificationError\): PCK certificate chain/);
  });

  it('treats a missing certificate file as a usage error', async () => {
    await assert.rejects(runCli(verifyCert, [join(scratch, 'absent.der')]), UsageError);
  });
});

describe('sepal manifest', () => {
  it('keygen, create, sign and verify; a changed data file fails naming it', async () => {
    const root = join(scratch, 'job');
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, 'dist', 'main.js'), 'run();\n');
    writeFileSync(join(root, 'package.json'), '{}\n');
    writeFileSync(join(root, 'package-lock.json'), '{}\n');
    writeFileSync(join(root, 'train.csv'), '1,2\n');
    const key = join(scratch, 'signer.pem');
    const out = join(scratch, 'manifest.json');
    assert.equal((await runCli(manifest.keygen, ['--out', key])).status, 0);
    const created = await runCli(manifest.create, [
      '--root',
      root,
      '--data',
      join(root, 'train.csv'),
      '--out',
      out,
    ]);
    assert.equal(created.status, 0, created.err);
    assert.match(created.out, /4 files/);
    const signed = await runCli(manifest.sign, [out, '--key', key]);
    assert.match(signed.out, /measurement: [0-9a-f]{64}/);
    const ok = await runCli(manifest.verify, [
      out,
      '--trusted-key',
      `${key}.pub`,
      '--root',
      root,
      '--json',
    ]);
    assert.equal(ok.status, 0, ok.err);
    assert.equal(
      JSON.parse(ok.out).measurement,
      /measurement: ([0-9a-f]{64})/.exec(signed.out)?.[1],
    );
    appendFileSync(join(root, 'train.csv'), '3,4\n');
    const bad = await runCli(manifest.verify, [out, '--trusted-key', `${key}.pub`, '--root', root]);
    assert.equal(bad.status, 1);
    assert.match(bad.err, /modified: train\.csv/);
  });

  it('refuses to write the manifest inside a covered directory', async () => {
    const root = join(scratch, 'job2');
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, 'dist', 'a.js'), '');
    await assert.rejects(
      runCli(manifest.create, [
        '--root',
        root,
        '--code',
        'dist',
        '--out',
        join(root, 'dist', 'm.json'),
      ]),
      /lies under dist/,
    );
  });
});

describe('sepal seal / unseal', () => {
  it('round-trips a file, and writes nothing when the key is wrong', async () => {
    const key = join(scratch, 'mount.key');
    const other = join(scratch, 'other.key');
    assert.equal((await runCli(seal.keygen, [key])).status, 0);
    assert.equal((await runCli(seal.keygen, [other])).status, 0);
    await assert.rejects(runCli(seal.keygen, [key]), UsageError);
    const plain = join(scratch, 'weights.bin');
    writeFileSync(plain, 'w'.repeat(100_000));
    const mount = join(scratch, 'mount');
    const sealed = await runCli(seal.seal, [
      plain,
      '--mount',
      mount,
      '--key',
      key,
      '--as',
      'models/w.bin',
    ]);
    assert.equal(sealed.status, 0, sealed.err);
    const back = join(scratch, 'weights.out');
    assert.equal(
      (await runCli(seal.unseal, ['models/w.bin', '--mount', mount, '--key', key, '--out', back]))
        .status,
      0,
    );
    assert.deepEqual(readFileSync(back), readFileSync(plain));
    const refused = join(scratch, 'refused.out');
    const wrong = await runCli(seal.unseal, [
      'models/w.bin',
      '--mount',
      mount,
      '--key',
      other,
      '--out',
      refused,
    ]);
    assert.equal(wrong.status, 1);
    assert.match(wrong.err, /refused \(wrong-key\)/);
    assert.equal(existsSync(refused), false, 'nothing written after a failed check');
  });

  it('requires exactly one key source', async () => {
    await assert.rejects(runCli(seal.unseal, ['x', '--mount', scratch]), /exactly one of --key/);
  });
});
