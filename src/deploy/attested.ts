/**
 * Attested TLS for the deployment (`sepal server|client --attest`). Each side makes a fresh
 * RA-TLS identity at start-up (confidential/node.ts): an in-memory P-384 key and a self-signed
 * certificate carrying evidence that commits to that key. Both ends present it in the TLS 1.3
 * handshake and verify the other's right after it, before any RPC is served or sent.
 *
 * How attestation combines with the deployment's identities: a party's identity stays its
 * CA-issued certificate (a node: its allow-listed Ed25519 key; the server: its certificate for
 * the host name), and attestation is an additional requirement. The RA-TLS certificate carries
 * an **endorsement** extension: the CA-issued certificate and that certificate key's signature
 * over the RA-TLS public key. A peer is accepted only if
 *   1. its evidence verifies against this side's policy and commits to the RA-TLS key, and
 *   2. the endorsing certificate was issued by the deployment CA, is valid now, has the right
 *      extended key usage (and, for the server, matches the host name), and its key signed the
 *      RA-TLS key.
 * The TLS handshake proves possession of the RA-TLS key, so the connection is bound to both the
 * attested code and the long-term identity: a stolen identity key without a passing TEE, or a
 * passing TEE without an identity key, is refused. The node's identity is then the endorsing
 * key, which the allow-list names exactly as with plain mutual TLS.
 *
 * Endorsement extension (OID below), CBOR: { "v": 1, "cert": bstr DER certificate,
 * "sig": bstr signature over "sepal ra-tls endorsement v1" 0x00 || SHA-256(RA-TLS SPKI) }
 * (Ed25519, or ECDSA with SHA-256 as DER for EC keys).
 */
import { decode, encode } from 'cborg';
import {
  createHash,
  createPrivateKey,
  sign,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import type { Claims, Collateral, Policy } from '../confidential/attestation/index.js';
import { type AttestMode, startConfidentialNode } from '../confidential/node.js';
import type { VerifiedManifest } from '../confidential/manifest/index.js';
import { parseCertificate } from '../confidential/attestation/x509.js';
import { certificateFormatError } from '../confidential/ratls/errors.js';
import {
  type RaTlsIdentity,
  type RaTlsVerification,
  RaTlsCertificateError,
  verifyRaTlsCertificate,
} from '../confidential/ratls/index.js';
import type { AttestedNodeTls } from './client/transport.js';
import { NodeRefusedError, PeerAttestationError } from './errors.js';
import { keyId } from './identity.js';
import type { PeerIdentity } from './server/auth.js';
import type { ServerTls } from './server/listen.js';

/** UUID OID (X.667) 5f0c1e0a-8c2b-4d43-9a8e-2f1b7c3d9e41: no registration, no collision. */
export const OID_SEPAL_IDENTITY_ENDORSEMENT = '2.25.126396036549213513063212087087489572417';

const CONTEXT = new TextEncoder().encode('sepal ra-tls endorsement v1\0');
const EKU = { server: '1.3.6.1.5.5.7.3.1', client: '1.3.6.1.5.5.7.3.2' } as const;

/** A long-term identity as PEM: the CA-issued certificate and its private key. */
export interface IdentityPem {
  readonly cert: string;
  readonly key: string;
}

const message = (spki: Uint8Array) =>
  new Uint8Array([...CONTEXT, ...createHash('sha256').update(spki).digest()]);

/** Ed25519 signs the message itself; EC and RSA keys sign its SHA-256. */
const digestFor = (key: KeyObject) => (key.asymmetricKeyType === 'ed25519' ? null : 'sha256');

/**
 * The endorsement extension for an RA-TLS key `spki`, signed by `identity`'s key: pass it as
 * `createRaTlsIdentity(attester, { extensions: (spki) => [endorsement(identity, spki)] })`.
 */
export function endorsement(
  identity: IdentityPem,
  spki: Uint8Array,
): { oid: string; value: Uint8Array } {
  const key = createPrivateKey(identity.key);
  const cert = new X509Certificate(identity.cert);
  if (!cert.checkPrivateKey(key)) {
    throw new Error('the identity key does not belong to the identity certificate');
  }
  const sig = new Uint8Array(sign(digestFor(key), message(spki), key));
  return { oid: OID_SEPAL_IDENTITY_ENDORSEMENT, value: encode({ v: 1, cert: cert.raw, sig }) };
}

export interface AttestedPeerOptions {
  /** What this side accepts of the peer's evidence. */
  readonly policy: Policy;
  readonly collateral?: Collateral;
  /** The deployment CA(s) that issue identity certificates. */
  readonly ca: readonly X509Certificate[];
  /** 'server' when verifying the server (EKU serverAuth, host name), 'client' for a node. */
  readonly role: 'server' | 'client';
  /** The host name or address the node dialled (server role only). */
  readonly host?: string;
  readonly at?: Date;
}

export interface AttestedPeer {
  readonly attestation: RaTlsVerification;
  /** The CA-issued certificate that endorsed the RA-TLS key: the peer's identity. */
  readonly identity: X509Certificate;
}

const refuse = (detail: string) => new RaTlsCertificateError('identity endorsement', detail);

/** Verifies a peer's RA-TLS certificate (DER): its evidence, then its endorsement. */
export function verifyAttestedPeer(der: Uint8Array, options: AttestedPeerOptions): AttestedPeer {
  const at = options.at ?? new Date();
  const attestation = verifyRaTlsCertificate(der, {
    policy: options.policy,
    at,
    ...(options.collateral && { collateral: options.collateral }),
  });
  const cert = parseCertificate(der, 'certificate', certificateFormatError);
  const value = cert.extensions.get(OID_SEPAL_IDENTITY_ENDORSEMENT);
  if (value === undefined) {
    throw refuse(`no endorsement extension ${OID_SEPAL_IDENTITY_ENDORSEMENT}`);
  }
  let decoded: unknown;
  try {
    decoded = decode(value, { rejectDuplicateMapKeys: true });
  } catch (error) {
    throw refuse(`not valid CBOR (${(error as Error).message})`);
  }
  const { v, cert: identityDer, sig } = (decoded ?? {}) as Record<string, unknown>;
  if (v !== 1 || !(identityDer instanceof Uint8Array) || !(sig instanceof Uint8Array)) {
    throw refuse('expected { "v": 1, "cert": bstr, "sig": bstr }');
  }
  let identity: X509Certificate;
  try {
    identity = new X509Certificate(identityDer);
  } catch (error) {
    throw refuse(`the identity certificate does not parse (${(error as Error).message})`);
  }
  checkIdentity(identity, options, at);
  if (!verify(digestFor(identity.publicKey), message(cert.spki), identity.publicKey, sig)) {
    throw refuse(`the key of "${identity.subject}" did not sign this RA-TLS key`);
  }
  return { attestation, identity };
}

function checkIdentity(identity: X509Certificate, options: AttestedPeerOptions, at: Date): void {
  const subject = identity.subject.replace(/\n/g, ', ');
  const issuer = options.ca.find((ca) => identity.checkIssued(ca) && identity.verify(ca.publicKey));
  if (issuer === undefined) {
    throw refuse(`the identity certificate "${subject}" was not issued by the deployment CA`);
  }
  if (at < new Date(identity.validFrom) || at > new Date(identity.validTo)) {
    throw refuse(`the identity certificate "${subject}" is not valid at ${at.toISOString()}`);
  }
  const usage = identity.keyUsage;
  if (usage !== undefined && !usage.includes(EKU[options.role])) {
    throw refuse(`the identity certificate "${subject}" is not for TLS ${options.role}s`);
  }
  if (options.role === 'server' && options.host !== undefined) {
    const host = options.host.replace(/^\[(.*)\]$/, '$1');
    const match = isIP(host) === 0 ? identity.checkHost(host) : identity.checkIP(host);
    if (match === undefined) {
      throw refuse(`the server certificate "${subject}" is not for ${host}`);
    }
  }
}

/** The peer's RA-TLS certificate on an established TLS socket, DER. */
export function peerCertificate(socket: TLSSocket): Uint8Array {
  const raw = socket.getPeerCertificate(true)?.raw;
  if (raw === undefined)
    throw new RaTlsCertificateError('peer', 'the peer presented no certificate');
  return new Uint8Array(raw);
}

/** Certificates of a PEM bundle (the deployment CA file may hold several). */
export function certificatesOf(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/** One side of an attested deployment, as made at start-up. */
export interface AttestedSide {
  /** This side's RA-TLS key and certificate (evidence + endorsement by its identity key). */
  readonly identity: RaTlsIdentity;
  /** What this side accepts of its peers' evidence. */
  readonly policy: Policy;
  readonly collateral?: Collateral;
  /** PEM: the deployment CA that issued the identity certificates. */
  readonly ca: string;
}

export interface AttestedSideOptions {
  readonly attest: AttestMode;
  readonly policy: Policy;
  readonly collateral?: Collateral;
  /** This side's CA-issued certificate and key (what --cert / --key name). */
  readonly identity: IdentityPem;
  readonly ca: string;
  /** The manifest verified at start-up: the software attester's measurement. */
  readonly manifest?: VerifiedManifest;
  /** Attester devices, for tests: Gramine's /dev/attestation, configfs-tsm's report directory. */
  readonly gramineDir?: string;
  readonly tsmDir?: string;
}

/** Makes the attester and this side's endorsed RA-TLS identity (fails closed on any error). */
export async function startAttestedSide(options: AttestedSideOptions): Promise<AttestedSide> {
  const node = await startConfidentialNode({
    attest: options.attest,
    policy: options.policy,
    ...(options.manifest && { verifiedManifest: options.manifest }),
    ...(options.gramineDir !== undefined && { gramineDir: options.gramineDir }),
    ...(options.tsmDir !== undefined && { tsmDir: options.tsmDir }),
    certificate: { extensions: (spki) => [endorsement(options.identity, spki)] },
  });
  return {
    identity: node.tls.identity,
    policy: options.policy,
    ca: options.ca,
    ...(options.collateral && { collateral: options.collateral }),
  };
}

/** A short description of verified claims, for logs: the kind and the measurement. */
export function describeClaims(claims: Claims): string {
  switch (claims.type) {
    case 'insecure':
      return `INSECURE software evidence, measurement ${claims.measurement}`;
    case 'sgx':
      return `SGX enclave ${claims.mrenclave}, TCB ${claims.tcbStatus ?? 'not evaluated'}`;
    case 'tdx':
      return `TDX guest ${claims.mrtd}, TCB ${claims.tcbStatus ?? 'not evaluated'}`;
  }
}

export type AttestationEvent =
  | {
      readonly type: 'peer-attested';
      readonly peer: string;
      /** The node's identity key (allow-list form). */
      readonly key: string;
      readonly claims: Claims;
    }
  | { readonly type: 'peer-refused'; readonly peer: string; readonly reason: string };

const addressOf = (socket: TLSSocket) => `${socket.remoteAddress}:${socket.remotePort}`;

const pemKey = (identity: RaTlsIdentity) =>
  identity.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

/**
 * The server's TLS for attested nodes: it presents its RA-TLS certificate and identifies each
 * node by the key that endorsed the node's RA-TLS certificate, once its evidence passed.
 */
export function attestedServerTls(
  side: AttestedSide,
  onEvent: (event: AttestationEvent) => void = () => undefined,
): ServerTls {
  const ca = certificatesOf(side.ca);
  return {
    key: pemKey(side.identity),
    cert: side.identity.certificatePem,
    ca: side.ca,
    identifyPeer(socket): PeerIdentity {
      const peer = addressOf(socket);
      try {
        const { attestation, identity } = verifyAttestedPeer(peerCertificate(socket), {
          policy: side.policy,
          ...(side.collateral && { collateral: side.collateral }),
          ca,
          role: 'client',
        });
        const key = keyId(identity.publicKey);
        onEvent({ type: 'peer-attested', peer, key, claims: attestation.claims });
        return { key };
      } catch (error) {
        const reason = (error as Error).message;
        onEvent({ type: 'peer-refused', peer, reason });
        return { error: new NodeRefusedError(`attestation refused: ${reason}`) };
      }
    },
  };
}

/** A node's TLS for an attested server: `fleetTransport(url, max, attestedNodeTls(side))`. */
export function attestedNodeTls(side: AttestedSide): AttestedNodeTls {
  const ca = certificatesOf(side.ca);
  return {
    connect(host, port) {
      const socket = connect({
        host,
        port,
        ...(isIP(host) === 0 && { servername: host }),
        ALPNProtocols: ['h2'],
        minVersion: 'TLSv1.3',
        key: pemKey(side.identity),
        cert: side.identity.certificatePem,
        // RA-TLS certificates are self-signed: the checks below replace OpenSSL's.
        rejectUnauthorized: false,
      });
      // The HTTP/2 session sets itself up on 'secureConnect'. This socket announces it only
      // once the server passed: on failure the event is withheld and the socket destroyed with
      // the reason, so the session never starts (not a byte of HTTP/2 is written) and reports
      // the error to the caller. (Destroying the socket inside a 'secureConnect' listener
      // instead would let the session set up on a closed socket, which aborts Node, and a
      // session that looks connected makes the client reconnect in a loop.)
      const emit = socket.emit.bind(socket);
      socket.emit = (event: string | symbol, ...args: unknown[]): boolean => {
        if (event !== 'secureConnect') return emit(event, ...args);
        try {
          verifyAttestedPeer(peerCertificate(socket), {
            policy: side.policy,
            ...(side.collateral && { collateral: side.collateral }),
            ca,
            role: 'server',
            host,
          });
        } catch (error) {
          socket.destroy(new PeerAttestationError(`server ${host}:${port}`, error as Error));
          return false;
        }
        return emit(event, ...args);
      };
      return socket;
    },
  };
}
