// `sepal manifest keygen | create | sign | verify`: the integrity manifest by hand.
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { toHex } from '../confidential/attestation/bytes.js';
import {
  KeyFileError,
  readPublicKey,
  readSigningKey,
  writeSigningKeyPair,
} from '../confidential/key-files.js';
import {
  createManifest,
  DEFAULT_CODE_PATHS,
  ManifestError,
  manifestMeasurement,
  parseManifest,
  serializeManifest,
  signManifest,
  verifyManifest,
} from '../confidential/manifest/index.js';
import { isUnder, toRelativePath } from '../confidential/relative-path.js';
import { zeroize } from '../crypto/bytes.js';
import { onePositional, parseCommand, printHelp } from './attest-common.js';
import { UsageError } from './usage.js';

const HELP = {
  keygen: `Usage: sepal manifest keygen --out <file>

Writes a new Ed25519 signing key (PKCS#8 PEM, mode 0600) to <file> and its public key (PEM) to
<file>.pub. Keep the private key off the machines that run the job; give them the .pub file.`,
  create: `Usage: sepal manifest create [--root <dir>] [--code <path>]... [--data <path>]... [--out <file>]

Hashes (SHA-256) every regular file under the code and data paths into an unsigned manifest.
  --root <dir>    paths in the manifest are relative to it (default: .)
  --code <path>   a file or directory of the code bundle; repeatable
                  (default: ${DEFAULT_CODE_PATHS.join(', ')})
  --data <path>   a data file or directory; repeatable
  --out <file>    where to write it (default: manifest.json); must not lie under a covered path`,
  sign: `Usage: sepal manifest sign <manifest> --key <private key file> [--out <file>]

Signs the manifest with Ed25519 (in place unless --out) and prints its measurement.`,
  verify: `Usage: sepal manifest verify <manifest> --trusted-key <public key file | 64 hex> [--root <dir>] [--json]

Checks the signature against the trusted key, then every file: exit 0 when all match, 1 naming
each file that is modified, missing or extra.`,
};

export async function keygen(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { out: { type: 'string' } });
  if (values.help) return printHelp(HELP.keygen);
  const out = required(values.out, '--out');
  const { publicPath, publicKey } = keyFile(() => writeSigningKeyPair(out));
  console.log(`wrote ${out} (private, keep it secret) and ${publicPath}`);
  console.log(`public key: ${toHex(publicKey)}`);
  return 0;
}

export async function create(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    root: { type: 'string', default: '.' },
    code: { type: 'string', multiple: true },
    data: { type: 'string', multiple: true },
    out: { type: 'string', default: 'manifest.json' },
  });
  if (values.help) return printHelp(HELP.create);
  const root = resolve(values.root);
  const out = resolve(values.out);
  const manifest = await fail(() =>
    createManifest({
      root,
      ...(values.code && { code: values.code }),
      ...(values.data && { data: values.data }),
    }),
  );
  if (manifest === undefined) return 1;
  const outPath = toRelativePath(root, out);
  const covering = [...manifest.code, ...manifest.data].find(
    (include) => outPath !== undefined && isUnder(outPath, include),
  );
  if (covering !== undefined) {
    throw new UsageError(`--out ${values.out} lies under ${covering}, which the manifest covers`);
  }
  writeFileSync(out, serializeManifest({ manifest }));
  const bytes = manifest.files.reduce((sum, file) => sum + file.size, 0);
  console.log(`wrote ${values.out}: ${manifest.files.length} files, ${bytes} bytes (unsigned)`);
  return 0;
}

export async function sign(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    key: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help) return printHelp(HELP.sign);
  const path = onePositional(positionals, 'manifest');
  const document = await fail(async () => parseManifest(await readFile(path, 'utf8')));
  if (document === undefined) return 1;
  const secretKey = keyFile(() => readSigningKey(required(values.key, '--key')));
  try {
    const signed = signManifest(document.manifest, secretKey);
    writeFileSync(values.out ?? path, serializeManifest(signed));
    console.log(`signed ${values.out ?? path}`);
    console.log(`measurement: ${toHex(manifestMeasurement(signed))}`);
  } finally {
    zeroize(secretKey);
  }
  return 0;
}

export async function verify(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    'trusted-key': { type: 'string' },
    root: { type: 'string', default: '.' },
    json: { type: 'boolean', default: false },
  });
  if (values.help) return printHelp(HELP.verify);
  const path = onePositional(positionals, 'manifest');
  const trusted = keyFile(() => readPublicKey(required(values['trusted-key'], '--trusted-key')));
  try {
    const { manifest, measurement } = await verifyManifest(path, trusted, values.root);
    const result = { verified: true, files: manifest.files.length, measurement };
    console.log(
      values.json
        ? JSON.stringify(result)
        : `verified: ${result.files} files\nmeasurement: ${measurement}`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    if (values.json) {
      const mismatches = 'mismatches' in error ? error.mismatches : undefined;
      console.log(
        JSON.stringify({ verified: false, error: error.name, reason: error.message, mismatches }),
      );
    } else {
      console.error(`rejected (${error.name}): ${error.message}`);
    }
    return 1;
  }
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new UsageError(`${name} is required (see --help)`);
  return value;
}

function keyFile<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof KeyFileError) throw new UsageError(error.message);
    throw error;
  }
}

/** Runs `action`; a ManifestError is printed and yields undefined (exit status 1). */
async function fail<T>(action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    console.error(`${error.name}: ${error.message}`);
    return undefined;
  }
}
