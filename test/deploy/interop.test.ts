// Interoperability: a node written in Python from the .proto alone (Debian's python3-grpcio and
// python3-grpc-tools) registers over mutual TLS with an allow-listed key and pulls a fit task.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certPaths, createDevelopmentPki, serverTlsFiles } from '../../src/deploy/certs.js';
import { startFleetServer } from '../../src/deploy/server/fleet-server.js';
import { resolveConfig } from '../../src/sim/config.js';
import { DIM, jobConfig, oneRoundServer } from './helpers.js';

// Debian's interpreter, where python3-grpcio lives (a pyenv python3 earlier on PATH lacks it).
const PYTHON = '/usr/bin/python3';
const hasGrpc =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import grpc, grpc_tools.protoc']).status === 0;

test('a Python gRPC node registers and pulls a task', async () => {
  // CI installs them (.ci/run); a machine without them fails here rather than skipping.
  assert.ok(hasGrpc, `${PYTHON} lacks grpc: apt-get install python3-grpcio python3-grpc-tools`);
  const dir = mkdtempSync(join(tmpdir(), 'sepal-interop-'));
  const stubs = join(dir, 'stubs');
  mkdirSync(stubs);
  const protoc = spawnSync(
    PYTHON,
    [
      ...['-m', 'grpc_tools.protoc', '-I', 'proto'],
      ...[`--python_out=${stubs}`, `--grpc_python_out=${stubs}`, 'sepal/fleet/v1/fleet.proto'],
    ],
    { encoding: 'utf8' },
  );
  assert.equal(protoc.status, 0, protoc.stderr);
  const pki = join(dir, 'pki');
  await createDevelopmentPki(pki, ['py-node']);
  const paths = certPaths(pki);
  const config = resolveConfig(
    jobConfig({ rounds: 1, secureAggregation: false, fit: { minClients: 1 } }),
  );
  const server = await startFleetServer({
    host: '127.0.0.1',
    port: 0,
    tls: serverTlsFiles(paths),
    allowList: paths.allowList,
    database: join(dir, 'server.db'),
    ...(await oneRoundServer(config)),
    livenessTimeoutMs: 30_000,
    pollTimeoutMs: 2000,
  });
  // The run waits for the node, then gives it a fit task; it never finishes (the node leaves).
  const run = server.run().catch(() => undefined);
  try {
    const node = paths.node('py-node');
    const python = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        // Asynchronous: the server runs in this process and must keep answering.
        const child = spawn(PYTHON, [
          'test/deploy/interop/fleet_client.py',
          stubs,
          new URL(server.url).host,
          paths.ca,
          node.cert,
          node.key,
        ]);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('exit', (status) => resolve({ status, stdout, stderr }));
      },
    );
    assert.equal(python.status, 0, python.stderr);
    const seen = JSON.parse(python.stdout) as Record<string, unknown>;
    assert.deepEqual(seen, {
      node: 'py-node',
      run: server.runId,
      kind: 'fit',
      round: 1,
      tensors: [{ name: 'synthetic', shape: [DIM], bytes: 4 * DIM }],
    });
  } finally {
    await server.close();
    await run;
  }
});
