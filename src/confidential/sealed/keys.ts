// Where a mount's key material comes from.
// - A key file: 32 random bytes, stored as 64 hex digits (a trailing newline is allowed) or as
//   raw bytes. `sepal seal keygen <file>` or `openssl rand -hex 32 > file` makes one.
// - Inside a Gramine SGX enclave: the enclave's sealing key, read from
//   /dev/attestation/keys/_sgx_mrenclave (bound to this exact enclave build) or _sgx_mrsigner
//   (shared by every enclave of the same signer and product, so data survives upgrades).
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHex } from '../attestation/bytes.js';
import { zeroize } from '../../crypto/bytes.js';
import { NotInEnclaveError } from '../attesters/gramine.js';

const KEY_FILE_BYTES = 32;
export const GRAMINE_KEYS_DIR = '/dev/attestation/keys';
/** Gramine's sealing keys are 128-bit SGX keys. */
const GRAMINE_SEALING_KEY_BYTES = 16;

export class MountKeyError extends Error {
  override name = 'MountKeyError';
}

export async function readMountKeyFile(path: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error) {
    throw new MountKeyError(`cannot read mount key file ${path}: ${(error as Error).message}`);
  }
  try {
    if (raw.length === KEY_FILE_BYTES) return new Uint8Array(raw);
    const hex = fromHex(raw.toString('latin1').trim());
    if (hex?.length === KEY_FILE_BYTES) return hex;
    throw new MountKeyError(
      `mount key file ${path}: expected ${KEY_FILE_BYTES} bytes as ${2 * KEY_FILE_BYTES} hex digits (or raw)`,
    );
  } finally {
    zeroize(raw);
  }
}

/** Writes a new random key file (64 hex digits, mode 0600); refuses to overwrite one. */
export async function writeMountKeyFile(path: string): Promise<void> {
  const key = randomBytes(KEY_FILE_BYTES);
  const text = Buffer.from(`${key.toString('hex')}\n`, 'latin1');
  try {
    await writeFile(path, text, { mode: 0o600, flag: 'wx' });
  } finally {
    zeroize(key, text);
  }
}

export type GramineSealingKey = '_sgx_mrenclave' | '_sgx_mrsigner';

/** The enclave's sealing key from Gramine's /dev/attestation/keys (directory parameterised). */
export async function readGramineSealingKey(
  which: GramineSealingKey = '_sgx_mrenclave',
  dir: string = GRAMINE_KEYS_DIR,
): Promise<Uint8Array> {
  let key: Uint8Array;
  try {
    key = new Uint8Array(await readFile(join(dir, which)));
  } catch {
    throw new NotInEnclaveError(
      `not inside a Gramine SGX enclave: the sealing key ${join(dir, which)} cannot be read`,
    );
  }
  if (key.length !== GRAMINE_SEALING_KEY_BYTES) {
    zeroize(key);
    throw new MountKeyError(
      `${join(dir, which)}: expected a ${GRAMINE_SEALING_KEY_BYTES}-byte key`,
    );
  }
  return key;
}
