// Attested TLS on 127.0.0.1: both ends present RA-TLS certificates with software evidence and
// verify each other before any application data; a peer with absent or bad evidence, or one the
// policy does not accept, is refused before the application sees a single byte.
import * as assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { parsePolicy, type Policy } from '../../src/confidential/attestation/index.js';
import { SoftwareAttester } from '../../src/confidential/attesters/index.js';
import { extension, selfSign, toPem } from '../../src/confidential/ratls/certificate.js';
import {
  connectAttested,
  createAttestedServer,
  createRaTlsIdentity,
  OID_SEPAL_SOFTWARE_EVIDENCE,
  type RaTlsIdentity,
  type RaTlsVerification,
} from '../../src/confidential/ratls/index.js';
import { bytesToHex as toHex } from '../../src/crypto/bytes.js';

const GOOD = new Uint8Array(32).fill(0x11);
const OTHER = new Uint8Array(32).fill(0x22);
const onlyGood: Policy = parsePolicy({
  allowInsecure: true,
  software: { measurements: [toHex(GOOD)] },
});

interface Seen {
  readonly accepted: RaTlsVerification[];
  readonly refused: Error[];
  readonly received: string[];
}

/** An attested echo server: replies "hello <data>" to verified clients only. */
async function startServer(identity: RaTlsIdentity, policy: Policy) {
  const seen: Seen = { accepted: [], refused: [], received: [] };
  const server = createAttestedServer(
    { identity, policy },
    {
      onConnection(socket, peer) {
        seen.accepted.push(peer);
        socket.on('data', (data) => {
          seen.received.push(data.toString());
          socket.end(`hello ${data.toString()}`);
        });
      },
      onRefused(error) {
        seen.refused.push(error);
      },
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return { server, port, seen };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('attested TLS', () => {
  let good: RaTlsIdentity;
  let other: RaTlsIdentity;
  before(async () => {
    good = await createRaTlsIdentity(new SoftwareAttester(GOOD));
    other = await createRaTlsIdentity(new SoftwareAttester(OTHER));
  });
  const servers: tls.Server[] = [];
  after(() => servers.forEach((server) => server.close()));

  it('both ends verify each other and then exchange data', async () => {
    const { server, port, seen } = await startServer(good, onlyGood);
    servers.push(server);
    const { socket, peer } = await connectAttested({
      host: '127.0.0.1',
      port,
      identity: good,
      policy: onlyGood,
    });
    assert.equal(peer.claims.type, 'insecure');
    socket.write('world');
    const [reply] = (await once(socket, 'data')) as [Buffer];
    assert.equal(reply.toString(), 'hello world');
    assert.equal(seen.accepted.length, 1);
    assert.equal(
      seen.accepted[0]?.claims.type === 'insecure' && seen.accepted[0].claims.measurement,
      toHex(GOOD),
    );
    socket.destroy();
  });

  it('the server refuses a client whose measurement the policy does not accept', async () => {
    const { server, port, seen } = await startServer(good, onlyGood);
    servers.push(server);
    const permissive = parsePolicy({ allowInsecure: true });
    const { socket } = await connectAttested({
      host: '127.0.0.1',
      port,
      identity: other,
      policy: permissive,
    });
    socket.on('error', () => undefined);
    socket.write('secret training data');
    await until(() => seen.refused.length > 0);
    assert.match(String(seen.refused[0]), /software\.measurements/);
    assert.equal(seen.accepted.length, 0);
    assert.deepEqual(seen.received, [], 'nothing the client sent reached the application');
    socket.destroy();
  });

  it('the client refuses a server the policy does not accept, before sending anything', async () => {
    const { server, port, seen } = await startServer(other, parsePolicy({ allowInsecure: true }));
    servers.push(server);
    await assert.rejects(
      connectAttested({ host: '127.0.0.1', port, identity: good, policy: onlyGood }),
      /software\.measurements/,
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen.received, [], 'the client sent nothing');
  });

  it('the client refuses insecure evidence under a policy that does not allow it', async () => {
    const { server, port } = await startServer(good, onlyGood);
    servers.push(server);
    await assert.rejects(
      connectAttested({
        host: '127.0.0.1',
        port,
        identity: good,
        policy: parsePolicy({ sgx: {} }),
      }),
      /allowInsecure/,
    );
  });

  it('the server refuses a client that presents no certificate', async () => {
    const { server, port, seen } = await startServer(good, onlyGood);
    servers.push(server);
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    socket.on('error', () => undefined);
    await once(socket, 'secureConnect');
    socket.write('hello?');
    await until(() => seen.refused.length > 0);
    assert.match(String(seen.refused[0]), /presented no certificate/);
    assert.deepEqual(seen.received, []);
    socket.destroy();
  });

  it('the server refuses a client certificate whose evidence binds another key', async () => {
    const { server, port, seen } = await startServer(good, onlyGood);
    servers.push(server);
    // Take the good evidence, but present it in a certificate for a key of our own.
    const stolen = await new SoftwareAttester(GOOD).evidence(new Uint8Array(64));
    assert.equal(stolen.kind, 'software');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    const evidence = stolen.kind === 'software' ? stolen.evidence : new Uint8Array();
    const cert = selfSign(privateKey, spki, [extension(OID_SEPAL_SOFTWARE_EVIDENCE, evidence)], {
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3600_000),
    });
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      key: privateKey.export({ format: 'pem', type: 'pkcs8' }),
      cert: toPem(cert),
    });
    socket.on('error', () => undefined);
    await once(socket, 'secureConnect');
    socket.write('poisoned update');
    await until(() => seen.refused.length > 0);
    assert.match(String(seen.refused[0]), /report data/);
    assert.deepEqual(seen.received, []);
    socket.destroy();
  });
});
