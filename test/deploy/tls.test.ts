// The TLS seam in one process: the allow-list names nodes by their certificate keys, and a
// verifyPeer hook (where attestation checks plug in) refuses connections after the handshake.
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certPaths, createDevelopmentPki, serverTlsFiles } from '../../src/deploy/certs.js';
import { fleetTransport } from '../../src/deploy/client/transport.js';
import { startFleetServer } from '../../src/deploy/server/fleet-server.js';
import * as pb from '../../src/gen/sepal/fleet/v1/fleet_pb.js';
import { resolveConfig } from '../../src/sim/config.js';
import { jobConfig, oneRoundServer } from './helpers.js';

test('TLS: nodes are named by the allow-list; verifyPeer refuses after the handshake', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sepal-tls-'));
  await createDevelopmentPki(dir, ['node-0', 'quarantined']);
  const paths = certPaths(dir);
  const config = resolveConfig(jobConfig());
  const server = await startFleetServer({
    host: '127.0.0.1',
    port: 0,
    tls: {
      ...serverTlsFiles(paths),
      verifyPeer: (socket) => {
        if (socket.getPeerX509Certificate()?.subject.includes('CN=quarantined')) {
          throw new Error('evidence rejected');
        }
      },
    },
    allowList: paths.allowList,
    database: join(dir, 'server.db'),
    ...(await oneRoundServer(config)),
  });
  const rpc = (name: string) => {
    const node = paths.node(name);
    const tls = {
      ca: readFileSync(paths.ca, 'utf8'),
      cert: readFileSync(node.cert, 'utf8'),
      key: readFileSync(node.key, 'utf8'),
    };
    return createClient(pb.FleetService, fleetTransport(server.url, 1 << 20, tls));
  };
  try {
    const registered = await rpc('node-0').register(create(pb.RegisterRequestSchema));
    assert.equal(registered.nodeName, 'node-0');
    await assert.rejects(
      rpc('node-0').register(create(pb.RegisterRequestSchema, { nodeName: 'node-7' })),
      (error: unknown) =>
        ConnectError.from(error).code === Code.PermissionDenied &&
        /belongs to node node-0, not node-7/.test(String(error)),
    );
    // The connection is cut: the node sees a transport failure, not an answer.
    await assert.rejects(
      rpc('quarantined').register(create(pb.RegisterRequestSchema)),
      (error: unknown) => [Code.Unavailable, Code.Canceled].includes(ConnectError.from(error).code),
    );
  } finally {
    await server.close();
  }
});
