// Confidential mode as users run it: `sepal server` and three `sepal client` processes with a
// signed manifest, attested TLS (software evidence; each side's policy pins the manifest
// measurement) and sealed checkpoints, FedAvg with SecAgg+ over three rounds.
// - While the run goes on, a node whose evidence reports another measurement is refused by the
//   server with the reason, and a node whose policy forbids insecure evidence refuses the server;
//   both exit 1 naming why, and the run goes on.
// - The server is SIGKILLed after round 1 and restarted: it resumes from the sealed checkpoint,
//   the nodes attest again to the new server identity, and the run finishes.
// - Afterwards the database holds only sealed checkpoints, each the exact mean of the nodes'
//   updates once unsealed, and the exported model is sealed in the mount.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import {
  createManifest,
  generateSigningKey,
  readMountKeyFile,
  SealedMount,
  serializeManifest,
  signingPublicKey,
  signManifest,
  verifyManifest,
  writeMountKeyFile,
} from '../../src/confidential/index.js';
import { bytesToHex as toHex } from '../../src/crypto/bytes.js';
import { certPaths, createDevelopmentPki } from '../../src/deploy/certs.js';
import { DATABASE_SEAL_LABEL, sealedCheckpointName } from '../../src/deploy/server/store.js';
import { decodeCheckpoint } from '../../src/fl/checkpoint.js';
import type { History } from '../../src/fl/history.js';
import { DIM, expectedMean, jobConfig, maxDifference } from './helpers.js';
import { freePort, Sepal } from './sepal-process.js';

const NODES = ['node-0', 'node-1', 'node-2'];

test(
  'attested server and nodes with sealed checkpoints: refusals both ways, resume, exact',
  { timeout: 240_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sepal-attested-'));
    const pki = certPaths(join(dir, 'pki'));
    await createDevelopmentPki(join(dir, 'pki'), [...NODES, 'node-3']);
    const release = generateSigningKey();
    const trustedKey = toHex(signingPublicKey(release));
    /** A release: the job file, its signed manifest, and the measurement. */
    const releaseOf = async (name: string, job: object) => {
      const root = join(dir, name);
      const config = join(root, 'job.json');
      const manifest = join(dir, `${name}.manifest.json`);
      mkdirSync(root);
      writeFileSync(config, JSON.stringify(job));
      const document = signManifest(await createManifest({ root, code: ['job.json'] }), release);
      writeFileSync(manifest, serializeManifest(document));
      const { measurement } = await verifyManifest(manifest, signingPublicKey(release), root);
      return { root, config, manifest, measurement };
    };
    const job = jobConfig({ clients: 4, rounds: 3, fit: { fraction: 1, minClients: 3 } });
    const good = await releaseOf('release', job);
    // The same job with one field more: another measurement.
    const altered = await releaseOf('altered', { ...job, name: 'deploy-test-altered' });
    const policy = join(dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({ allowInsecure: true, software: { measurements: [good.measurement] } }),
    );
    const strict = join(dir, 'strict-policy.json');
    writeFileSync(strict, '{}');
    const sealKey = join(dir, 'seal.key');
    await writeMountKeyFile(sealKey);
    const sealDir = join(dir, 'sealed');
    const database = join(dir, 'server.db');
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;

    const confidential = (r: typeof good, policyFile = policy) => [
      ...['--config', r.config, '--synthetic-dim', String(DIM)],
      ...['--manifest', r.manifest, '--trusted-key', trustedKey, '--manifest-root', r.root],
      ...['--attest', 'software', '--policy', policyFile],
    ];
    const serverArgs = (minNodes: number) => [
      'server',
      ...confidential(good),
      ...['--listen', `127.0.0.1:${port}`, '--db', database, '--report', join(dir, 'report.html')],
      ...['--cert', pki.serverCert, '--key', pki.serverKey, '--ca', pki.ca],
      ...['--allow-list', pki.allowList, '--min-nodes', String(minNodes)],
      ...['--heartbeat-ms', '300', '--liveness-ms', '3000', '--poll-ms', '2000'],
      ...['--sealed-key', sealKey, '--seal-dir', sealDir, '--export-model', 'final.ckpt', '--json'],
    ];
    const client = (node: string, r = good, policyFile = policy) =>
      new Sepal([
        'client',
        ...confidential(r, policyFile),
        ...['--server', url, '--partition', node.replace('node-', '')],
        ...['--ca', pki.ca, '--cert', pki.node(node).cert, '--key', pki.node(node).key],
        // Late answers make each round last seconds, so that the server dies inside the run.
        ...['--max-backoff-ms', '500', '--answer-delay-ms', '300'],
      ]);

    const processes: Sepal[] = [];
    t.after(() => {
      processes.forEach((p) => p.kill());
      if (process.env['SEPAL_TEST_LOG'] !== undefined) {
        for (const p of processes) console.error(p.child.spawnargs.slice(3, 5).join(' '), p.lines);
      }
    });
    let server = new Sepal(serverArgs(NODES.length));
    processes.push(server);
    await server.waitFor(/^waiting for nodes/);
    // Refused by the server: evidence of another measurement. The node learns why and exits 1.
    const impostor = client('node-3', altered);
    processes.push(impostor);
    assert.equal(await impostor.exited, 1, impostor.lines.join('\n'));
    assert.match(
      impostor.lines.join('\n'),
      new RegExp(
        `permission_denied\\] attestation refused: .*software\\.measurements: ${altered.measurement} is not in the allowed list`,
      ),
    );
    await server.waitFor(/^refused 127\.0\.0\.1:\d+: .*software\.measurements/);
    // Refusing the server: this node's policy forbids insecure evidence.
    const wary = client('node-3', good, strict);
    processes.push(wary);
    assert.equal(await wary.exited, 1, wary.lines.join('\n'));
    assert.match(
      wary.lines.join('\n'),
      /sepal client: server 127\.0\.0\.1:\d+ failed attestation: rejected by policy allowInsecure/,
    );
    // The server went on waiting: the attested nodes join and the run starts.
    const clients = NODES.map((node) => client(node));
    processes.push(...clients);

    // The server dies after round 1 and comes back: it resumes from the sealed checkpoint.
    await server.waitFor(/^round 1 done: aggregated 3/);
    server.kill();
    await server.exited;
    server = new Sepal(serverArgs(NODES.length));
    processes.push(server);
    assert.equal(await server.exited, 0, server.lines.join('\n'));
    const log = server.lines.join('\n');
    assert.match(log, /\(resumed\)/);
    assert.match(log, /^run: rounds [23]\.\.3$/m);
    // Every node attested again to the restarted server (new RA-TLS identity, fresh evidence).
    assert.ok(
      (log.match(/^attested 127\.0\.0\.1:\d+ \(key [\w-]+\): INSECURE/gm)?.length ?? 0) >= 3,
    );
    for (const c of clients) assert.equal(await c.exited, 0, c.lines.join('\n'));

    const history = (JSON.parse(server.lines.at(-1) as string) as { history: History }).history;
    assert.deepEqual(
      history.rounds.map((r) => [r.round, r.aggregated]),
      [
        [1, 3],
        [2, 3],
        [3, 3],
      ],
    );
    // Only sealed blobs in the database; unsealed, each round added the exact mean.
    const key = await readMountKeyFile(sealKey);
    const mount = new SealedMount(sealDir, key, { label: DATABASE_SEAL_LABEL });
    const db = new Database(database, { readonly: true });
    const rows = db
      .prepare('SELECT run_id, round, checkpoint, record FROM checkpoints ORDER BY round')
      .all() as { run_id: string; round: number; checkpoint: Uint8Array; record: null }[];
    db.close();
    assert.deepEqual(
      rows.map((row) => [row.round, row.record]),
      [0, 1, 2, 3].map((round) => [round, null]),
    );
    const saved = rows.map((row) =>
      decodeCheckpoint(
        mount.openBytes(sealedCheckpointName(row.run_id, row.round), row.checkpoint),
      ),
    );
    for (const round of [1, 2, 3]) {
      const before = saved[round - 1]?.parameters[0]?.values as Float32Array;
      const after = saved[round]?.parameters[0]?.values as Float32Array;
      const delta = after.map((v, j) => v - (before[j] as number));
      assert.ok(maxDifference(delta, expectedMean(NODES)) < 1e-4, `round ${round}`);
    }
    const model = decodeCheckpoint(await new SealedMount(sealDir, key).readFile('final.ckpt'));
    assert.deepEqual(model.parameters, saved[3]?.parameters);
    assert.equal(readFileSync(join(sealDir, 'final.ckpt')).subarray(0, 8).toString(), 'SEPALSLD');
  },
);
