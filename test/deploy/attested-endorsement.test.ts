// The identity endorsement of deployed RA-TLS certificates: a peer is its CA-issued identity
// only if that identity's key signed this very RA-TLS key, the CA issued it, and it is for the
// peer's role (and, for the server, the host name). Evidence is checked first, as always.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  createManifest,
  generateSigningKey,
  parsePolicy,
  serializeManifest,
  signingPublicKey,
  signManifest,
  SoftwareAttester,
  createRaTlsIdentity,
  verifyManifest,
  type VerifiedManifest,
} from '../../src/confidential/index.js';
import { fromHex } from '../../src/confidential/attestation/bytes.js';
import {
  certificatesOf,
  OID_SEPAL_IDENTITY_ENDORSEMENT,
  startAttestedSide,
  verifyAttestedPeer,
  type AttestedSide,
} from '../../src/deploy/attested.js';
import { certPaths, createDevelopmentPki } from '../../src/deploy/certs.js';
import { keyId } from '../../src/deploy/identity.js';
import { parseCertificate } from '../../src/confidential/attestation/x509.js';
import { quoteFormatError } from '../../src/confidential/attestation/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sepal-endorsement-'));
const paths = certPaths(join(dir, 'pki'));
const other = certPaths(join(dir, 'other-pki'));
const policy = parsePolicy({ allowInsecure: true });
const pem = (path: string) => readFileSync(path, 'utf8');
let manifest: VerifiedManifest;
let ca: string;

const side = (cert: string, key: string): Promise<AttestedSide> =>
  startAttestedSide({
    attest: 'software',
    policy,
    identity: { cert: pem(cert), key: pem(key) },
    ca,
    manifest,
  });

const refusedWith = (pattern: RegExp) => (error: unknown) =>
  error instanceof Error &&
  /identity endorsement/.test(error.message) &&
  pattern.test(error.message);

describe('identity endorsement of RA-TLS certificates', () => {
  before(async () => {
    await createDevelopmentPki(join(dir, 'pki'), ['node-0']);
    await createDevelopmentPki(join(dir, 'other-pki'), ['outsider']);
    ca = pem(paths.ca);
    writeFileSync(join(dir, 'job.json'), '{}');
    const key = generateSigningKey();
    const document = signManifest(await createManifest({ root: dir, code: ['job.json'] }), key);
    writeFileSync(join(dir, 'manifest.json'), serializeManifest(document));
    manifest = await verifyManifest(join(dir, 'manifest.json'), signingPublicKey(key), dir);
  });

  it('names the node by the allow-listed key that endorsed its RA-TLS key', async () => {
    const node = await side(paths.node('node-0').cert, paths.node('node-0').key);
    const { identity, attestation } = verifyAttestedPeer(node.identity.certificate, {
      policy,
      ca: certificatesOf(ca),
      role: 'client',
    });
    assert.match(identity.subject, /CN=node-0/);
    assert.equal(attestation.claims.type, 'insecure');
    const allowed = readFileSync(paths.allowList, 'utf8').trim().split(' ')[1];
    assert.equal(keyId(identity.publicKey), allowed);
    // A node's certificate is not a server's.
    assert.throws(
      () =>
        verifyAttestedPeer(node.identity.certificate, {
          policy,
          ca: certificatesOf(ca),
          role: 'server',
          host: '127.0.0.1',
        }),
      refusedWith(/is not for TLS servers/),
    );
  });

  it('checks the server certificate against the host name', async () => {
    const server = await side(paths.serverCert, paths.serverKey);
    const verify = (host: string) =>
      verifyAttestedPeer(server.identity.certificate, {
        policy,
        ca: certificatesOf(ca),
        role: 'server',
        host,
      });
    assert.match(verify('127.0.0.1').identity.subject, /CN=localhost/);
    assert.match(verify('localhost').identity.subject, /CN=localhost/);
    assert.throws(() => verify('example.com'), refusedWith(/is not for example\.com/));
  });

  it('refuses an identity from another CA', async () => {
    const outsider = await side(other.node('outsider').cert, other.node('outsider').key);
    assert.throws(
      () =>
        verifyAttestedPeer(outsider.identity.certificate, {
          policy,
          ca: certificatesOf(ca),
          role: 'client',
        }),
      refusedWith(/not issued by the deployment CA/),
    );
  });

  it('refuses an endorsement copied into a certificate for another key, and none at all', async () => {
    const node = await side(paths.node('node-0').cert, paths.node('node-0').key);
    const stolen = parseCertificate(
      node.identity.certificate,
      'certificate',
      quoteFormatError,
    ).extensions.get(OID_SEPAL_IDENTITY_ENDORSEMENT);
    assert.ok(stolen);
    const attester = new SoftwareAttester(fromHex(manifest.measurement) as Uint8Array);
    const thief = await createRaTlsIdentity(attester, {
      extensions: () => [{ oid: OID_SEPAL_IDENTITY_ENDORSEMENT, value: stolen }],
    });
    const options = { policy, ca: certificatesOf(ca), role: 'client' } as const;
    assert.throws(
      () => verifyAttestedPeer(thief.certificate, options),
      refusedWith(/did not sign this RA-TLS key/),
    );
    const bare = await createRaTlsIdentity(attester);
    assert.throws(
      () => verifyAttestedPeer(bare.certificate, options),
      refusedWith(/no endorsement extension/),
    );
    // Evidence comes first: under a policy refusing insecure evidence nothing else is looked at.
    assert.throws(
      () => verifyAttestedPeer(node.identity.certificate, { ...options, policy: parsePolicy({}) }),
      /allowInsecure/,
    );
  });
});
