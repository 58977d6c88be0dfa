// The networked loop in one process (no TLS, fast): the real server loop and SecAgg+ over the
// fleet service on 127.0.0.1, nodes running the real ClientHost; plus the one-port claim: the
// same service answers gRPC, gRPC-Web and the Connect protocol.
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runNode } from '../../src/deploy/client/node.js';
import { fleetTransport } from '../../src/deploy/client/transport.js';
import { startFleetServer } from '../../src/deploy/server/fleet-server.js';
import { syntheticClient, syntheticJob } from '../../src/deploy/synthetic.js';
import { ClientHost } from '../../src/fl/client-host.js';
import * as pb from '../../src/gen/sepal/fleet/v1/fleet_pb.js';
import { resolveConfig } from '../../src/sim/config.js';
import { checkpoints, DIM, expectedMean, jobConfig, maxDifference } from './helpers.js';

const NODES = 5;

async function server(database: string, overrides: Record<string, unknown> = {}) {
  const config = resolveConfig(jobConfig({ rounds: 2, ...overrides }));
  return startFleetServer({
    host: '127.0.0.1',
    port: 0,
    database,
    job: JSON.stringify(config),
    strategy: await syntheticJob(config, DIM).strategy(),
    numRounds: config.rounds,
    minNodes: NODES,
    roundTimeoutMs: 10_000,
    heartbeatIntervalMs: 200,
    livenessTimeoutMs: 1000,
    pollTimeoutMs: 2000,
    maxMessageBytes: 1 << 20,
    rateLimit: { perSecond: 1000, burst: 1000 },
  });
}

test('two SecAgg+ rounds over the network give the exact FedAvg of the synthetic updates', async () => {
  const database = join(mkdtempSync(join(tmpdir(), 'sepal-loop-')), 'server.db');
  const fleet = await server(database);
  const names = Array.from({ length: NODES }, (_, i) => `node-${i}`);
  const nodes = names.map((nodeName, i) =>
    runNode({
      transport: fleetTransport(fleet.url, 1 << 20),
      host: new ClientHost(syntheticClient(i, DIM)),
      nodeName,
    }),
  );
  try {
    const { history, parameters } = await fleet.run();
    await Promise.all(nodes);
    assert.deepEqual(
      history.rounds.map((r) => [r.round, r.aggregated, r.secAgg?.survivors]),
      [
        [1, NODES, NODES],
        [2, NODES, NODES],
      ],
    );
    const mean = expectedMean(names);
    const twice = mean.map((v) => 2 * v);
    assert.ok(maxDifference(parameters[0]?.values ?? [], twice) < 1e-4);
    // Every completed round is in the database, once, with its parameters.
    const saved = checkpoints(database);
    assert.deepEqual(
      saved.map((c) => c.round),
      [0, 1, 2],
    );
    assert.ok(maxDifference(saved[1]?.parameters[0]?.values ?? [], mean) < 1e-4);
  } finally {
    await fleet.close();
  }
});

test('one port answers gRPC, gRPC-Web and Connect; unknown sessions get NOT_FOUND', async () => {
  const database = join(mkdtempSync(join(tmpdir(), 'sepal-loop-')), 'server.db');
  const fleet = await server(database);
  try {
    for (const transport of [
      createGrpcTransport({ baseUrl: fleet.url }),
      createGrpcWebTransport({ baseUrl: fleet.url, httpVersion: '2' }),
      createConnectTransport({ baseUrl: fleet.url, httpVersion: '2' }),
    ]) {
      const rpc = createClient(pb.FleetService, transport);
      const registered = await rpc.register(
        create(pb.RegisterRequestSchema, { nodeName: 'probe' }),
      );
      assert.equal(registered.runId, fleet.runId);
      assert.equal(registered.nodeName, 'probe');
      await assert.rejects(
        rpc.heartbeat(create(pb.HeartbeatRequestSchema, { sessionId: 'nope' })),
        (error: unknown) => ConnectError.from(error).code === Code.NotFound,
      );
    }
  } finally {
    await fleet.close();
  }
});

test('a result with malformed content gets INVALID_ARGUMENT, a stale one FAILED_PRECONDITION', async () => {
  const database = join(mkdtempSync(join(tmpdir(), 'sepal-loop-')), 'server.db');
  const fleet = await server(database, { secureAggregation: false, rounds: 1 });
  const run = fleet.run().catch(() => undefined);
  const rpc = createClient(pb.FleetService, createGrpcTransport({ baseUrl: fleet.url }));
  const code = (error: unknown) => ConnectError.from(error).code;
  try {
    const sessions = await Promise.all(
      Array.from({ length: NODES }, (_, i) =>
        rpc.register(create(pb.RegisterRequestSchema, { nodeName: `raw-${i}` })),
      ),
    );
    const { sessionId } = sessions[0] as pb.RegisterResponse;
    const { task } = await rpc.pullTask(create(pb.PullTaskRequestSchema, { sessionId }));
    assert.equal(task?.kind.case, 'fit');
    const push = (tensorBytes: number, taskId = task?.taskId ?? '') =>
      rpc.pushResult(
        create(pb.PushResultRequestSchema, {
          sessionId,
          taskId,
          runId: task?.runId ?? '',
          round: task?.round ?? 0,
          result: {
            case: 'fit',
            value: {
              parameters: {
                tensors: [{ name: 'synthetic', shape: [DIM], values: new Uint8Array(tensorBytes) }],
              },
              numExamples: 1,
            },
          },
        }),
      );
    await assert.rejects(push(3), (error: unknown) => {
      assert.equal(code(error), Code.InvalidArgument);
      assert.match(String(error), /fit.parameters.tensors\[0\] \(synthetic\): has 3 value bytes/);
      return true;
    });
    // The task failed with its malformed answer: answering it again is answering a closed task.
    await assert.rejects(
      push(4 * DIM),
      (error: unknown) => code(error) === Code.FailedPrecondition,
    );
    await assert.rejects(
      push(4 * DIM, 'no-such-task'),
      (error: unknown) => code(error) === Code.FailedPrecondition,
    );
  } finally {
    await fleet.close();
    await run;
  }
});
