// `sepal vfl active` and `sepal vfl passive` as two real processes on 127.0.0.1 with mutual TLS
// (a development PKI and an allow-list):
// - a --deterministic run replays the one-process example exactly (same accuracy), and the two
//   sealed exports are ciphertext only, open with their own key only, and reproduce the accuracy;
// - a passive process SIGKILLed mid-training: the active party names it, exits 1 and exports its
//   last good state;
// - an active process SIGKILLed mid-training: the passive party names it and exits 1;
// - --attest software (on top of mutual TLS): both verify each other's evidence and endorsement
//   and train when their policies allow software evidence; a passive party whose policy forbids
//   it refuses before any data moves.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  readMountKeyFile,
  SealedFileError,
  SealedMount,
  writeMountKeyFile,
} from '../../src/confidential/sealed/index.js';
import { loadExampleParty } from '../../src/cli/vfl-data.js';
import { runVflExample } from '../../src/cli/vfl-example.js';
import type { PartyReport } from '../../src/cli/vfl-party.js';
import { createManifest } from '../../src/confidential/manifest/create.js';
import { serializeManifest } from '../../src/confidential/manifest/document.js';
import { signManifest } from '../../src/confidential/manifest/signature.js';
import { generateSigningKey, signingPublicKey } from '../../src/confidential/signing.js';
import { bytesToHex } from '../../src/crypto/bytes.js';
import { certPaths, createDevelopmentPki } from '../../src/deploy/certs.js';
import { readSealedModel } from '../../src/vertical/net/sealed-export.js';
import { accuracy } from '../../src/vertical/split/driver.js';
import { activeLogits, gatherRows } from '../../src/vertical/split/model.js';
import { tf } from '../../src/vertical/split/tf.js';
import { Sepal } from '../deploy/sepal-process.js';

const EXAMPLE = {
  subset: true,
  examples: 200,
  epochs: 1,
  batchSize: 16,
  learningRate: 0.01,
  seed: 2,
  noise: 0,
};
const exampleFlags = [
  '--subset',
  '--examples',
  '200',
  '--batch-size',
  '16',
  '--learning-rate',
  '0.01',
  '--seed',
  '2',
];

async function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'sepal-vfl-processes-'));
  await createDevelopmentPki(dir, ['passive']);
  const paths = certPaths(dir);
  return {
    dir,
    active: [
      '--cert',
      paths.serverCert,
      '--key',
      paths.serverKey,
      '--ca',
      paths.ca,
      '--allow-list',
      paths.allowList,
    ],
    passive: [
      '--cert',
      paths.node('passive').cert,
      '--key',
      paths.node('passive').key,
      '--ca',
      paths.ca,
    ],
  };
}

/** Starts the active party on a free port; resolves with the process and its URL. */
async function startActive(flags: string[]) {
  const active = new Sepal(['vfl', 'active', '--listen', '127.0.0.1:0', ...flags]);
  const line = await active.waitFor(/listening on|^sepal/);
  const url = /listening on (\S+)/.exec(line)?.[1];
  assert.ok(url, `active did not start: ${active.lines.join('\n')}`);
  return { active, url };
}

const lastJson = (process: Sepal) =>
  JSON.parse(process.lines.findLast((l) => l.startsWith('{')) ?? '{}') as PartyReport;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('sepal vfl active / passive as two processes', () => {
  it('replays the one-process example exactly over mutual TLS, and seals each half under its own key', async () => {
    const { dir, active: activeTls, passive: passiveTls } = await setUp();
    const keys = { active: join(dir, 'active.key'), passive: join(dir, 'passive.key') };
    await writeMountKeyFile(keys.active);
    await writeMountKeyFile(keys.passive);
    const exports = { active: join(dir, 'export-active'), passive: join(dir, 'export-passive') };
    const common = [...exampleFlags, '--epochs', '1', '--deterministic', '--json'];
    const { active, url } = await startActive([
      ...activeTls,
      ...common,
      '--seal-key',
      keys.active,
      '--export',
      exports.active,
    ]);
    const passive = new Sepal([
      'vfl',
      'passive',
      '--server',
      url,
      ...passiveTls,
      ...common,
      '--seal-key',
      keys.passive,
      '--export',
      exports.passive,
    ]);
    const [passiveCode, activeCode] = await Promise.all([passive.exited, active.exited]);
    assert.equal(passiveCode, 0, passive.lines.join('\n'));
    assert.equal(activeCode, 0, active.lines.join('\n'));
    const [p, a] = [lastJson(passive), lastJson(active)];
    assert.equal(p.aligned, 160);
    assert.equal(a.aligned, 160);
    assert.equal(p.steps, 10);
    assert.equal(a.steps, 10);
    assert.ok(p.complete && a.complete);

    // The same computation as the one-process example, to the last bit.
    const oneProcess = await runVflExample(EXAMPLE);
    assert.equal(a.testAccuracy, oneProcess.testAccuracy.split);
    assert.equal(p.testAccuracy, oneProcess.testAccuracy.split);

    // Only ciphertext on disk: no model.json text, no weight bytes.
    const passiveMount = new SealedMount(exports.passive, await readMountKeyFile(keys.passive), {
      label: 'sepal-vfl-passive',
    });
    const activeMount = new SealedMount(exports.active, await readMountKeyFile(keys.active), {
      label: 'sepal-vfl-active',
    });
    const passiveHalf = await readSealedModel(passiveMount, 'passive-bottom');
    const activeBottom = await readSealedModel(activeMount, 'active-bottom');
    const top = await readSealedModel(activeMount, 'top');
    const weightBytes = Buffer.from(
      passiveHalf.model.getWeights()[0]?.dataSync().buffer as ArrayBuffer,
    ).subarray(0, 64);
    const written = [...filesUnder(exports.passive), ...filesUnder(exports.active)];
    assert.equal(written.length, 6);
    for (const file of written) {
      const bytes = readFileSync(file);
      assert.equal(bytes.includes('modelTopology'), false, file);
      assert.equal(bytes.includes('layers-model'), false, file);
      assert.equal(bytes.includes(weightBytes), false, file);
    }
    assert.deepEqual(passiveHalf.metadata, { party: 'passive', steps: 10, complete: true });
    assert.deepEqual(top.metadata, { party: 'active', steps: 10, complete: true });

    // The three unsealed models together score exactly what the parties reported.
    const [left, right] = await Promise.all([
      loadExampleParty('passive', EXAMPLE),
      loadExampleParty('active', EXAMPLE),
    ]);
    const everyRow = Array.from({ length: left.test.features.rows }, (_, i) => i);
    const predicted = tf.tidy(() => {
      const embedding = passiveHalf.model.apply(
        gatherRows(left.test.features, everyRow),
      ) as tf.Tensor2D;
      const model = { activeBottom: activeBottom.model, top: top.model };
      return activeLogits(model, embedding, gatherRows(right.test.features, everyRow))
        .argMax(1)
        .dataSync();
    });
    assert.equal(accuracy(predicted, right.test.labels as ArrayLike<number>), a.testAccuracy);

    // Each half opens with its own party's key only.
    const wrongKey = new SealedMount(exports.passive, await readMountKeyFile(keys.active), {
      label: 'sepal-vfl-passive',
    });
    await assert.rejects(readSealedModel(wrongKey, 'passive-bottom'), SealedFileError);
  });

  it('a passive process killed mid-training: the active party names it, exits 1, exports its last good state', async () => {
    const { dir, active: activeTls, passive: passiveTls } = await setUp();
    const key = join(dir, 'active.key');
    await writeMountKeyFile(key);
    const exported = join(dir, 'export-active');
    const common = [...exampleFlags, '--examples', '1000', '--epochs', '2'];
    const { active, url } = await startActive([
      ...activeTls,
      ...common,
      '--reconnect-ms',
      '2000',
      '--seal-key',
      key,
      '--export',
      exported,
    ]);
    const passive = new Sepal(['vfl', 'passive', '--server', url, ...passiveTls, ...common]);
    await passive.waitFor(/step 50\/100/);
    passive.kill();
    assert.equal(await active.exited, 1);
    const output = active.lines.join('\n');
    assert.match(
      output,
      /active: peer passive: its connection closed during training \(step \d+\) and it did not reconnect within 2000 ms/,
    );
    const steps = Number(/kept the last good state \((\d+) steps\), exported/.exec(output)?.[1]);
    // The passive party had applied 50 gradients; the 50th may still be provisional at the active
    // party (no later embedding acknowledged it), which then rolls it back.
    assert.ok(steps >= 49 && steps < 100, output);
    const mount = new SealedMount(exported, await readMountKeyFile(key), {
      label: 'sepal-vfl-active',
    });
    const { metadata } = await readSealedModel(mount, 'top');
    assert.deepEqual(metadata, { party: 'active', steps, complete: false });
  });

  it('an active process killed mid-training: the passive party names it and exits 1', async () => {
    const { active: activeTls, passive: passiveTls } = await setUp();
    const common = [...exampleFlags, '--examples', '1000', '--epochs', '2'];
    const { active, url } = await startActive([...activeTls, ...common]);
    const passive = new Sepal([
      'vfl',
      'passive',
      '--server',
      url,
      ...passiveTls,
      ...common,
      '--timeout-ms',
      '3000',
    ]);
    await passive.waitFor(/step 50\/100/);
    active.kill();
    assert.equal(await passive.exited, 1);
    const output = passive.lines.join('\n');
    const peer = url.replace(/[.]/g, '[.]');
    assert.match(
      output,
      new RegExp(
        `passive: peer active at ${peer}: unreachable or gone while awaiting gradient for step \\d+`,
      ),
    );
    assert.match(output, /kept the last good state \(\d+ steps\)/);
  });

  it('--attest software: trains when both policies allow software evidence; fails closed otherwise', async () => {
    const { dir, active: activeTls, passive: passiveTls } = await setUp();
    writeFileSync(join(dir, 'code.txt'), 'the code both parties run');
    const signer = generateSigningKey();
    const manifest = await createManifest({ root: dir, code: ['code.txt'], data: [] });
    writeFileSync(join(dir, 'manifest.json'), serializeManifest(signManifest(manifest, signer)));
    writeFileSync(join(dir, 'allow.json'), JSON.stringify({ allowInsecure: true }));
    writeFileSync(join(dir, 'strict.json'), JSON.stringify({}));
    const attest = (policy: string) => [
      '--attest',
      'software',
      '--policy',
      join(dir, policy),
      '--manifest',
      join(dir, 'manifest.json'),
      '--trusted-key',
      bytesToHex(signingPublicKey(signer)),
      '--manifest-root',
      dir,
    ];
    const common = [...exampleFlags, '--epochs', '1', '--deterministic', '--json'];
    const { active, url } = await startActive([...activeTls, ...attest('allow.json'), ...common]);
    const refused = new Sepal([
      'vfl',
      'passive',
      '--server',
      url,
      ...passiveTls,
      ...attest('strict.json'),
      ...common,
    ]);
    assert.equal(await refused.exited, 1, refused.lines.join('\n'));
    assert.match(
      refused.lines.join('\n'),
      /its attestation was refused: .*rejected by policy allowInsecure/,
    );
    assert.equal(lastJson(refused).aligned, undefined); // nothing aligned, nothing trained
    // The active party is still waiting for a passive party it can accept.
    const passive = new Sepal([
      'vfl',
      'passive',
      '--server',
      url,
      ...passiveTls,
      ...attest('allow.json'),
      ...common,
    ]);
    const [passiveCode, activeCode] = await Promise.all([passive.exited, active.exited]);
    assert.equal(passiveCode, 0, passive.lines.join('\n'));
    assert.equal(activeCode, 0, active.lines.join('\n'));
    assert.equal(lastJson(active).peer, 'passive (attested)'); // its allow-listed endorsing key
    assert.equal(lastJson(passive).testAccuracy, lastJson(active).testAccuracy);
    assert.equal(lastJson(active).steps, 10);
  });
});
