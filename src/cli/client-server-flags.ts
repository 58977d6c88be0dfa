/**
 * What `sepal server` and `sepal client` read alike: number flags, PEM files, and the job (the
 * same typed config as `sepal simulate`, with the config's model or a synthetic one).
 */
import { modelJob } from '../deploy/model-job.js';
import { readFileSync } from 'node:fs';
import { syntheticJob } from '../deploy/synthetic.js';
import type { DeployJob } from '../deploy/job.js';
import { DeployFileError } from '../deploy/errors.js';
import { loadConfig } from '../sim/config-file.js';
import type { JobConfig } from '../sim/config.js';
import { ManifestError } from '../confidential/manifest/errors.js';
import { readPublicKey } from '../confidential/key-files.js';
import { verifyManifest, type VerifiedManifest } from '../confidential/manifest/verify.js';
import { AttestationError } from '../confidential/attestation/index.js';
import { ATTEST_MODES, type AttestMode } from '../confidential/node.js';
import { type AttestedSide, startAttestedSide } from '../deploy/attested.js';
import { verifySettings } from './attest-common.js';
import { UsageError } from './usage.js';

export { ATTEST_OPTIONS, MANIFEST_OPTIONS, TLS_OPTIONS } from './party-options.js';

export type Flags = Record<string, string | boolean | undefined>;

/** A number flag of at least `min` (default 0), or `fallback` when absent. */
export function numberFlag(flags: Flags, name: string, fallback: number, min = 0): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value < min) {
    throw new UsageError(`--${name} must be a number >= ${min}, got ${String(raw)}`);
  }
  return value;
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const raw = flags[name];
  return typeof raw === 'string' ? raw : undefined;
}

export function requiredFlag(flags: Flags, name: string): string {
  const raw = stringFlag(flags, name);
  if (raw === undefined) throw new UsageError(`--${name} is required`);
  return raw;
}

export function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new DeployFileError(
      path,
      `cannot read the ${what} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
}

/** The TLS file flags: all of `names` or none. */
export function tlsFiles<K extends string>(
  flags: Flags,
  names: readonly K[],
): Record<K, string> | undefined {
  const given = names.filter((name) => stringFlag(flags, name) !== undefined);
  if (given.length === 0) return undefined;
  if (given.length < names.length) {
    throw new UsageError(`TLS needs all of ${names.map((n) => `--${n}`).join(', ')}`);
  }
  return Object.fromEntries(
    names.map((name) => [name, readPem(requiredFlag(flags, name), name)]),
  ) as Record<K, string>;
}

export interface LoadedJob {
  readonly config: JobConfig;
  readonly job: DeployJob;
  /** What identifies the job to the server's database: the config plus the model choice. */
  readonly identity: string;
  /** The signed manifest checked at start-up (--manifest). */
  readonly manifest?: VerifiedManifest;
}

/** Help lines of the integrity flags (party-options.ts's MANIFEST_OPTIONS). */
export const MANIFEST_HELP = `  --manifest FILE        refuse to start unless this signed manifest matches the files
  --trusted-key KEY      the manifest signer's Ed25519 public key (file or hex)
  --manifest-root DIR    where the manifest's paths start (default: the current directory)`;

/**
 * With --manifest: every listed file is hashed again and the signature checked against the
 * trusted key before anything else starts; any difference stops the command, naming the file.
 */
async function checkManifest(flags: Flags): Promise<VerifiedManifest | undefined> {
  const manifest = stringFlag(flags, 'manifest');
  if (manifest === undefined) return undefined;
  let trusted: Uint8Array;
  try {
    trusted = readPublicKey(requiredFlag(flags, 'trusted-key'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--trusted-key: ${(error as Error).message}`);
  }
  try {
    return await verifyManifest(manifest, trusted, stringFlag(flags, 'manifest-root') ?? '.');
  } catch (error) {
    if (error instanceof ManifestError)
      throw new UsageError(`integrity check failed: ${error.message}`);
    throw error;
  }
}

export async function loadJob(flags: Flags): Promise<LoadedJob> {
  const manifest = await checkManifest(flags);
  const config = await loadConfig(requiredFlag(flags, 'config'));
  const dim = numberFlag(flags, 'synthetic-dim', 0);
  const verified = manifest === undefined ? {} : { manifest };
  if (dim === 0) {
    return { config, job: modelJob(config), identity: JSON.stringify({ config }), ...verified };
  }
  if (!Number.isInteger(dim)) throw new UsageError('--synthetic-dim must be a whole number');
  return {
    config,
    job: syntheticJob(config, dim),
    identity: JSON.stringify({ config, syntheticDim: dim }),
    ...verified,
  };
}

/** Help lines of the attestation flags (party-options.ts's ATTEST_OPTIONS). */
export const ATTEST_HELP = `  --attest MODE          attested TLS: sgx (Gramine), tdx (configfs-tsm) or software (INSECURE,
                         needs --manifest); needs TLS, and the peer must be attested too
  --policy FILE          what this side accepts of its peers' evidence (default: any non-debug
                         SGX enclave or TDX guest not revoked; software evidence needs
                         "allowInsecure": true)
  --collateral PATH      Intel collateral (directory or JSON bundle) for the peers' quotes`;

/**
 * With --attest: the attester and this side's RA-TLS identity, endorsed by its TLS identity
 * (deploy/attested.ts). Made before any connection; any failure stops the command.
 */
export async function attestedSideOf(
  flags: Flags,
  tls: { readonly ca: string; readonly cert: string; readonly key: string } | undefined,
  manifest: VerifiedManifest | undefined,
): Promise<AttestedSide | undefined> {
  const mode = stringFlag(flags, 'attest');
  if (mode === undefined) {
    for (const name of ['policy', 'collateral']) {
      if (stringFlag(flags, name) !== undefined) throw new UsageError(`--${name} needs --attest`);
    }
    return undefined;
  }
  if (!(ATTEST_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`--attest must be one of ${ATTEST_MODES.join(', ')}, got ${mode}`);
  }
  if (tls === undefined) throw new UsageError('--attest needs TLS (--ca, --cert, --key)');
  if (mode === 'software' && manifest === undefined) {
    throw new UsageError(
      '--attest software needs --manifest: its evidence is the manifest measurement',
    );
  }
  let settings;
  try {
    settings = verifySettings({
      policy: stringFlag(flags, 'policy'),
      collateral: stringFlag(flags, 'collateral'),
    });
  } catch (error) {
    if (error instanceof AttestationError) throw new UsageError(error.message);
    throw error;
  }
  return startAttestedSide({
    attest: mode as AttestMode,
    policy: settings.policy,
    ...(settings.collateral && { collateral: settings.collateral }),
    identity: { cert: tls.cert, key: tls.key },
    ca: tls.ca,
    ...(manifest && { manifest }),
  });
}
