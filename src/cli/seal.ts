// `sepal seal keygen | seal | unseal`: sealed files by hand.
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  type GramineSealingKey,
  MountKeyError,
  readGramineSealingKey,
  readMountKeyFile,
  SealedFileError,
  SealedMount,
  writeMountKeyFile,
} from '../confidential/sealed/index.js';
import { NotInEnclaveError } from '../confidential/attesters/index.js';
import { zeroize } from '../crypto/bytes.js';
import { onePositional, parseCommand, printHelp } from './attest-common.js';
import { UsageError } from './usage.js';

const KEY_HELP = `  --mount <dir>          the sealed mount's directory
  --key <file>           mount key file: 32 bytes as 64 hex digits (sepal seal keygen makes one)
  --gramine-key <name>   instead of --key, inside Gramine: _sgx_mrenclave or _sgx_mrsigner
  --label <text>         mount label, separating mounts that share a key (default: default)`;

const HELP = {
  keygen: `Usage: sepal seal keygen <file>

Writes a new random mount key (64 hex digits, mode 0600). Refuses to overwrite a file.`,
  seal: `Usage: sepal seal <file> --mount <dir> (--key <file> | --gramine-key <name>) [--as <path>]

Encrypts and authenticates <file> into the mount as <path> (default: its base name), in 64 KiB
AES-256-GCM chunks bound to <path>. It opens only under that path and with that mount key.
${KEY_HELP}`,
  unseal: `Usage: sepal unseal <path> --mount <dir> (--key <file> | --gramine-key <name>) [--out <file>]

Decrypts <path> of the mount to --out (mode 0600) or standard output. Every chunk and the end of
the file are checked first: on any tampering nothing is written and the exit status is 1.
${KEY_HELP}`,
};

const MOUNT_OPTIONS = {
  mount: { type: 'string' },
  key: { type: 'string' },
  'gramine-key': { type: 'string' },
  label: { type: 'string' },
} as const;

export async function keygen(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {});
  if (values.help) return printHelp(HELP.keygen);
  const [path, ...extra] = positionals;
  if (path === undefined || extra.length > 0) throw new UsageError('expected one key file path');
  try {
    await writeMountKeyFile(path);
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
  console.log(`wrote mount key ${path} (keep it secret)`);
  return 0;
}

export async function seal(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...MOUNT_OPTIONS, as: { type: 'string' } });
  if (values.help) return printHelp(HELP.seal);
  const file = onePositional(positionals, 'file to seal');
  const mount = await openMount(values);
  try {
    const path = values.as ?? basename(file);
    await mount.writeFile(path, new Uint8Array(await readInput(file)));
    console.log(`sealed ${file} as ${path} in ${mount.root}`);
    return 0;
  } finally {
    mount.close();
  }
}

export async function unseal(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...MOUNT_OPTIONS, out: { type: 'string' } });
  if (values.help) return printHelp(HELP.unseal);
  const path = onePositional(positionals, 'path inside the mount');
  const mount = await openMount(values);
  try {
    const plaintext = await mount.readFile(path);
    if (values.out === undefined) process.stdout.write(plaintext);
    else writeFileSync(values.out, plaintext, { mode: 0o600 });
    zeroize(plaintext);
    return 0;
  } catch (error) {
    if (!(error instanceof SealedFileError)) throw error;
    console.error(`refused (${error.reason}): ${error.message}`);
    return 1;
  } finally {
    mount.close();
  }
}

async function openMount(values: {
  mount?: string | undefined;
  key?: string | undefined;
  'gramine-key'?: string | undefined;
  label?: string | undefined;
}): Promise<SealedMount> {
  if (values.mount === undefined) throw new UsageError('--mount is required (see --help)');
  if ((values.key === undefined) === (values['gramine-key'] === undefined)) {
    throw new UsageError('give exactly one of --key and --gramine-key');
  }
  const material = await keyMaterial(values.key, values['gramine-key']);
  try {
    return new SealedMount(values.mount, material, {
      ...(values.label !== undefined && { label: values.label }),
    });
  } finally {
    zeroize(material);
  }
}

async function keyMaterial(file: string | undefined, gramine: string | undefined) {
  try {
    if (file !== undefined) return await readMountKeyFile(file);
    if (gramine !== '_sgx_mrenclave' && gramine !== '_sgx_mrsigner') {
      throw new UsageError('--gramine-key: expected _sgx_mrenclave or _sgx_mrsigner');
    }
    return await readGramineSealingKey(gramine as GramineSealingKey);
  } catch (error) {
    if (error instanceof MountKeyError || error instanceof NotInEnclaveError) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}

async function readInput(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}
