// Start-up of a confidential Sepal node (server or client), in the order that makes it fail
// closed: verify the integrity manifest, then make the attester, then the RA-TLS identity whose
// evidence the peers will check. A server or client with --manifest / --attest calls this
// before it opens any connection or reads any data; any error must stop it.
import type { Policy } from './attestation/index.js';
import { type Attester } from './attesters/attester.js';
import { GramineAttester } from './attesters/gramine.js';
import { SoftwareAttester } from './attesters/software.js';
import { TdxAttester } from './attesters/tdx.js';
import { verifyManifest, type VerifiedManifest } from './manifest/index.js';
import {
  createRaTlsIdentity,
  type AttestedTlsOptions,
  type RaTlsCertificateOptions,
} from './ratls/index.js';
import { fromHex } from './attestation/bytes.js';

/** What --attest selects: Gramine SGX, a TDX guest (configfs-tsm), or INSECURE software. */
export const ATTEST_MODES = ['sgx', 'tdx', 'software'] as const;
export type AttestMode = (typeof ATTEST_MODES)[number];

export interface ConfidentialNodeOptions {
  /** --manifest: verified before anything else; required in software mode. */
  readonly manifest?: {
    readonly path: string;
    readonly trustedKey: Uint8Array;
    /** Directory the manifest paths are relative to. */
    readonly root: string;
  };
  /** A manifest the caller already verified, instead of `manifest` (not verified again). */
  readonly verifiedManifest?: VerifiedManifest;
  readonly attest: AttestMode;
  /** --policy: what this node accepts from its peers. */
  readonly policy: Policy;
  /** Software mode: the attester's Ed25519 key (a fresh one if absent). */
  readonly softwareKey?: Uint8Array;
  /** SGX mode: Gramine's attestation directory (default /dev/attestation). */
  readonly gramineDir?: string;
  /** TDX mode: the configfs-tsm report directory (default /sys/kernel/config/tsm/report). */
  readonly tsmDir?: string;
  /** Passed to createRaTlsIdentity (e.g. extra extensions binding a long-term identity). */
  readonly certificate?: RaTlsCertificateOptions;
}

export interface ConfidentialNode {
  readonly manifest: VerifiedManifest | undefined;
  readonly attester: Attester;
  /** Pass to createAttestedServer / connectAttested. */
  readonly tls: AttestedTlsOptions;
}

export async function startConfidentialNode(
  options: ConfidentialNodeOptions,
): Promise<ConfidentialNode> {
  const manifest =
    options.verifiedManifest ??
    (options.manifest &&
      (await verifyManifest(
        options.manifest.path,
        options.manifest.trustedKey,
        options.manifest.root,
      )));
  const attester = await makeAttester(options, manifest);
  const identity = await createRaTlsIdentity(attester, options.certificate);
  return { manifest, attester, tls: { identity, policy: options.policy } };
}

async function makeAttester(
  options: ConfidentialNodeOptions,
  manifest: VerifiedManifest | undefined,
): Promise<Attester> {
  if (options.attest === 'sgx') return GramineAttester.open(options.gramineDir);
  if (options.attest === 'tdx') return TdxAttester.open(options.tsmDir);
  // The software attester's only claim is the manifest measurement: without a verified
  // manifest it would have nothing to report.
  if (manifest === undefined) {
    throw new Error('--attest software needs --manifest: its evidence is the manifest measurement');
  }
  return new SoftwareAttester(fromHex(manifest.measurement) as Uint8Array, options.softwareKey);
}
