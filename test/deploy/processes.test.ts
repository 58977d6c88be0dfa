// The deployment as users run it: `sepal server` and ten `sepal client` processes on 127.0.0.1,
// TLS with client certificates and an allow-list, FedAvg with SecAgg+ over four rounds.
// - Two nodes are SIGKILLed in round 2 after share-keys (while masking): the round completes
//   with the exact aggregate of the other eight.
// - The server is SIGKILLed in round 3 and started again: the run resumes from round 2's
//   checkpoint, re-runs round 3 and finishes; no round is lost or duplicated.
// - While the run goes on: a key off the allow-list, a certificate from another CA, a malformed
//   message and an oversized one are each refused, and the server stays up.
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certPaths, createDevelopmentPki } from '../../src/deploy/certs.js';
import { runNode } from '../../src/deploy/client/node.js';
import { fleetTransport } from '../../src/deploy/client/transport.js';
import { syntheticClient } from '../../src/deploy/synthetic.js';
import { ClientHost } from '../../src/fl/client-host.js';
import type { History } from '../../src/fl/history.js';
import * as pb from '../../src/gen/sepal/fleet/v1/fleet_pb.js';
import { checkpoints, DIM, expectedMean, jobConfig, maxDifference } from './helpers.js';
import { freePort, Sepal } from './sepal-process.js';

const NODES = 10;
const VICTIMS = ['node-8', 'node-9'];

/** Sends one request body as the Connect protocol and returns status and body. */
function rawConnect(url: string, tls: { ca: string; cert: string; key: string }, body: Uint8Array) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const session = http2.connect(url, tls);
    session.once('error', reject);
    const request = session.request({
      ':method': 'POST',
      ':path': '/sepal.fleet.v1.FleetService/Register',
      'content-type': 'application/proto',
    });
    let status = 0;
    let text = '';
    request.on('response', (headers) => (status = Number(headers[':status'])));
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      session.close();
      resolve({ status, body: text });
    });
    request.on('error', reject);
    request.end(body);
  });
}

test('ten TLS nodes, two killed in round 2, server killed in round 3: exact, complete, resumed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sepal-processes-'));
  const pki = join(dir, 'pki');
  const names = Array.from({ length: NODES }, (_, i) => `node-${i}`);
  await createDevelopmentPki(pki, names);
  await createDevelopmentPki(pki, ['stranger'], false);
  await createDevelopmentPki(join(dir, 'other-pki'), ['outsider']);
  const paths = certPaths(pki);
  const config = join(dir, 'job.json');
  writeFileSync(
    config,
    JSON.stringify(jobConfig({ rounds: 4, fit: { fraction: 1, minClients: 8 } })),
  );
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const database = join(dir, 'server.db');
  const report = join(dir, 'report.html');
  const serverArgs = (minNodes: number) => [
    'server',
    ...['--config', config, '--listen', `127.0.0.1:${port}`, '--db', database, '--report', report],
    ...['--cert', paths.serverCert, '--key', paths.serverKey, '--ca', paths.ca],
    ...['--allow-list', paths.allowList, '--min-nodes', String(minNodes)],
    ...['--heartbeat-ms', '300', '--liveness-ms', '1500', '--poll-ms', '5000'],
    ...['--max-message-mb', '1', '--synthetic-dim', String(DIM), '--json'],
  ];
  const pem = (path: string) => readFileSync(path, 'utf8');
  const nodeTls = (file: { cert: string; key: string }, ca = paths.ca) => ({
    ca: pem(ca),
    cert: pem(file.cert),
    key: pem(file.key),
  });

  const processes: Sepal[] = [];
  t.after(() => processes.forEach((p) => p.kill()));
  // All at once: the nodes retry until the server is up, so the start-ups overlap.
  let server = new Sepal(serverArgs(NODES));
  processes.push(server);
  const clients = names.map((name, i) => {
    const node = paths.node(name);
    const client = new Sepal([
      'client',
      ...['--server', url, '--config', config, '--partition', String(i)],
      ...['--ca', paths.ca, '--cert', node.cert, '--key', node.key],
      ...['--synthetic-dim', String(DIM), '--max-backoff-ms', '500'],
      // The victims answer late, so that they are killed between two of their answers.
      ...(VICTIMS.includes(name) ? ['--answer-delay-ms', '300'] : []),
    ]);
    processes.push(client);
    return client;
  });

  await server.waitFor(/^round 1: /);
  await t.test('refusals while the run goes on', async () => {
    // A key that is not on the allow-list: the node gives up with the server's reason.
    await assert.rejects(
      runNode({
        transport: fleetTransport(url, 1 << 20, nodeTls(paths.node('stranger'))),
        host: new ClientHost(syntheticClient(0, DIM)),
      }),
      (error: unknown) =>
        ConnectError.from(error).code === Code.PermissionDenied &&
        /is not on the allow-list/.test(String(error)),
    );
    const connect = (tls: ReturnType<typeof nodeTls>, maxBytes = 1 << 20) =>
      createClient(
        pb.FleetService,
        createConnectTransport({
          baseUrl: url,
          httpVersion: '2',
          nodeOptions: tls,
          writeMaxBytes: maxBytes,
        }),
      );
    // A certificate from another CA fails the TLS handshake.
    const outsider = nodeTls(certPaths(join(dir, 'other-pki')).node('outsider'));
    await assert.rejects(
      connect({ ...outsider, ca: pem(paths.ca) }).register(create(pb.RegisterRequestSchema)),
    );
    // Bytes that are not a RegisterRequest.
    // (Connect-ES reports undecodable protobuf as `internal`; content errors in messages that
    // decode get INVALID_ARGUMENT, see loop.test.ts.)
    const malformed = await rawConnect(
      url,
      nodeTls(paths.node('node-0')),
      new Uint8Array([0xff, 0xff, 0xff]),
    );
    assert.equal(malformed.status, 500, malformed.body);
    assert.match(malformed.body, /"code":"internal","message":"parse binary: /);
    // A message over the server's 1 MiB limit.
    await assert.rejects(
      connect(nodeTls(paths.node('node-0')), 4 << 20).register(
        create(pb.RegisterRequestSchema, { nodeName: 'x'.repeat(2 << 20) }),
      ),
      (error: unknown) => ConnectError.from(error).code === Code.ResourceExhausted,
    );
  });

  // Round 2: the victims vanish after share-keys, while masking (their answers are 150 ms late).
  await Promise.all(
    VICTIMS.map(async (name) => {
      const victim = clients[names.indexOf(name)] as Sepal;
      await victim.waitFor(/^round 2: secAgg ask-vectors/);
      victim.kill();
    }),
  );
  // Round 3: the server dies mid-round and comes back.
  await server.waitFor(/^round 3: share-keys/);
  server.kill();
  await server.exited;
  server = new Sepal(serverArgs(NODES - VICTIMS.length));
  processes.push(server);
  assert.equal(await server.exited, 0, server.lines.join('\n'));
  assert.match(server.lines.join('\n'), /\(resumed\)/);

  const survivors = clients.filter((_, i) => !VICTIMS.includes(names[i] as string));
  for (const client of survivors) {
    assert.equal(await client.exited, 0, client.lines.join('\n'));
    assert.match(client.lines.join('\n'), /run finished/);
  }

  const history = (JSON.parse(server.lines.at(-1) as string) as { history: History }).history;
  assert.deepEqual(
    history.rounds.map((r) => r.round),
    [1, 2, 3, 4],
  );
  const round2 = history.rounds[1];
  assert.deepEqual([...(round2?.dropped ?? [])].sort(), VICTIMS);
  assert.equal(round2?.aggregated, NODES - VICTIMS.length);
  assert.equal(round2?.secAgg?.survivors, NODES - VICTIMS.length);

  // One checkpoint per completed round; each round added the exact mean of its aggregated nodes.
  const saved = checkpoints(database);
  assert.deepEqual(
    saved.map((c) => c.round),
    [0, 1, 2, 3, 4],
  );
  for (const record of history.rounds) {
    const before = saved[record.round - 1]?.parameters[0]?.values as Float32Array;
    const after = saved[record.round]?.parameters[0]?.values as Float32Array;
    const sampled = record.round === 1 ? names : names.filter((n) => !VICTIMS.includes(n));
    const aggregated = sampled.filter((n) => !record.dropped.includes(n));
    assert.equal(aggregated.length, record.aggregated, `round ${record.round}`);
    const delta = after.map((v, j) => v - (before[j] as number));
    assert.ok(maxDifference(delta, expectedMean(aggregated)) < 1e-4, `round ${record.round}`);
  }
  assert.match(readFileSync(report, 'utf8'), /<svg/);
});
