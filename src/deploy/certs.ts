/**
 * A development PKI for a deployment (`sepal certs`): a CA, a server certificate for localhost /
 * 127.0.0.1, and per node an Ed25519 identity key with a client certificate for it, plus the
 * allow-list naming those keys. For production, bring your own CA; the server only needs a CA
 * file for client certificates and the allow-list.
 *
 * Layout of the directory (private keys are PKCS#8 PEM, mode 0600, and are never printed):
 *   ca.pem ca.key            the CA (ECDSA P-256), reused when present
 *   server.pem server.key    the server (ECDSA P-256), SAN localhost, 127.0.0.1, ::1
 *   nodes/<name>.pem .key    a node: its Ed25519 identity key and certificate
 *   allow-list.txt           "<name> <key>" for each node created here
 */
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIdentity, keyId } from './identity.js';
import { formatAllowListLine } from './server/allow-list.js';

x509.cryptoProvider.set(webcrypto as Crypto);

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const VALID_DAYS = 365;

export interface CertPaths {
  readonly ca: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly allowList: string;
  node(name: string): { readonly cert: string; readonly key: string };
}

/** The server's certificate, key and client CA from a development PKI, as TLS options take them. */
export function serverTlsFiles(paths: CertPaths): { cert: Buffer; key: Buffer; ca: Buffer } {
  return {
    cert: readFileSync(paths.serverCert),
    key: readFileSync(paths.serverKey),
    ca: readFileSync(paths.ca),
  };
}

export function certPaths(dir: string): CertPaths {
  return {
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    allowList: join(dir, 'allow-list.txt'),
    node: (name) => ({
      cert: join(dir, 'nodes', `${name}.pem`),
      key: join(dir, 'nodes', `${name}.key`),
    }),
  };
}

const validity = () => {
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + VALID_DAYS * 86_400_000) };
};

const pkcs8Pem = async (key: CryptoKey) =>
  x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');

const writePrivate = (path: string, pem: string) => writeFile(path, pem, { mode: 0o600 });

interface Ca {
  readonly cert: x509.X509Certificate;
  readonly key: CryptoKey;
}

async function loadOrCreateCa(paths: CertPaths): Promise<Ca> {
  try {
    const [certPem, keyPem] = await Promise.all([
      readFile(paths.ca, 'utf8'),
      readFile(paths.caKey, 'utf8'),
    ]);
    const der = createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' });
    const key = await webcrypto.subtle.importKey('pkcs8', der, ECDSA, false, ['sign']);
    return { cert: new x509.X509Certificate(certPem), key };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const keys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Sepal development CA',
    keys,
    signingAlgorithm: ECDSA,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeFile(paths.ca, cert.toString('pem'));
  await writePrivate(paths.caKey, await pkcs8Pem(keys.privateKey));
  return { cert, key: keys.privateKey };
}

async function issue(
  ca: Ca,
  subject: string,
  publicKey: CryptoKey,
  usage: x509.ExtendedKeyUsage,
  names: x509.JsonGeneralName[] = [],
): Promise<string> {
  const cert = await x509.X509CertificateGenerator.create({
    subject,
    issuer: ca.cert.subject,
    publicKey,
    signingKey: ca.key,
    signingAlgorithm: ECDSA,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return cert.toString('pem');
}

export interface CreatedNode {
  readonly name: string;
  /** The node's identity key, as the allow-list writes it. */
  readonly key: string;
}

/**
 * Creates what is missing in `dir`: the CA and server certificate on first use, then one
 * identity key and certificate per name in `nodes` that has none yet, each added to the
 * allow-list unless `allow` is false (for testing refusals). Returns the nodes it created.
 */
export async function createDevelopmentPki(
  dir: string,
  nodes: readonly string[],
  allow = true,
): Promise<CreatedNode[]> {
  const paths = certPaths(dir);
  await mkdir(join(dir, 'nodes'), { recursive: true });
  const ca = await loadOrCreateCa(paths);
  if (!existsSync(paths.serverCert)) {
    const keys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
    const pem = await issue(ca, 'CN=localhost', keys.publicKey, x509.ExtendedKeyUsage.serverAuth, [
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ]);
    await writeFile(paths.serverCert, pem);
    await writePrivate(paths.serverKey, await pkcs8Pem(keys.privateKey));
  }
  const created: CreatedNode[] = [];
  // A node that already has a certificate keeps it (and its allow-list line).
  for (const name of nodes.filter((n) => !existsSync(paths.node(n).cert))) {
    const identity = generateIdentity();
    const spki = identity.publicKey.export({ format: 'der', type: 'spki' });
    const publicKey = await webcrypto.subtle.importKey('spki', spki, { name: 'Ed25519' }, true, [
      'verify',
    ]);
    const { cert, key } = paths.node(name);
    await writeFile(
      cert,
      await issue(ca, `CN=${name}`, publicKey, x509.ExtendedKeyUsage.clientAuth),
    );
    await writePrivate(key, identity.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    const id = keyId(identity.publicKey);
    if (allow) await appendFile(paths.allowList, formatAllowListLine(name, id));
    created.push({ name, key: id });
  }
  return created;
}
