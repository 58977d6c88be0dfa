// Sealed mounts: round trips of every size around chunk boundaries (property-based), and every
// tampering case (chunk swap within and between files, reorder, truncation, extension, rename,
// header edit, wrong key) refused with a clear error and no plaintext.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  readMountKeyFile,
  SealedFileError,
  SealedMount,
  writeMountKeyFile,
} from '../../src/confidential/sealed/index.js';
import { HEADER_BYTES, TAG_BYTES } from '../../src/confidential/sealed/format.js';

const scratch = mkdtempSync(join(tmpdir(), 'sepal-sealed-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const CHUNK = 32;
const RECORD = CHUNK + TAG_BYTES;
const key = randomBytes(32);
let mounts = 0;
const newMount = (material: Uint8Array = key, label?: string) =>
  new SealedMount(join(scratch, `mount-${mounts++}`), material, {
    chunkSize: CHUNK,
    ...(label !== undefined && { label }),
  });

/** Four full chunks and a partial fifth. */
const plaintext = new Uint8Array(4 * CHUNK + 5).map((_, i) => i & 0xff);

async function sealed(mount: SealedMount, path = 'models/round-1.bin'): Promise<string> {
  await mount.writeFile(path, plaintext);
  return join(mount.root, ...path.split('/'));
}

const record = (file: Buffer, index: number) =>
  file.subarray(HEADER_BYTES + index * RECORD, HEADER_BYTES + (index + 1) * RECORD);

/** Expects readFile to fail with `reason`, and returns the error message. */
async function refused(mount: SealedMount, path: string, reason: SealedFileError['reason']) {
  const error = await mount.readFile(path).then(
    () => assert.fail('the sealed file should not open'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SealedFileError, String(error));
  assert.equal(error.reason, reason, error.message);
  assert.equal(error.path, path);
  return error.message;
}

describe('sealed mount round trips', () => {
  it('returns exactly what was sealed, for sizes around chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 16, max: 64 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: -1, max: 1 }),
        async (chunkSize, chunks, delta) => {
          const size = Math.max(0, chunks * chunkSize + delta);
          const mount = new SealedMount(join(scratch, `prop-${mounts++}`), key, { chunkSize });
          const data = randomBytes(size);
          await mount.writeFile('f', data);
          assert.deepEqual(await mount.readFile('f'), new Uint8Array(data));
          const stored = readFileSync(join(mount.root, 'f')).length;
          const records = Math.max(1, Math.ceil(size / chunkSize));
          assert.equal(stored, HEADER_BYTES + size + records * TAG_BYTES);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('streams: any split of the input gives the same file content', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5 * CHUNK }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (data, cuts) => {
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          const pieces = [0, ...points, data.length]
            .slice(1)
            .map((end, i, ends) => data.subarray(i === 0 ? 0 : (ends[i - 1] as number), end));
          const mount = newMount();
          await mount.writeStream('s', pieces);
          const chunks: Uint8Array[] = [];
          for await (const chunk of mount.readStream('s')) chunks.push(chunk);
          assert.deepEqual(Buffer.concat(chunks), Buffer.from(data));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps mounts apart: another label over the same key material opens nothing', async () => {
    const a = newMount(key, 'provider-a');
    await sealed(a);
    const b = new SealedMount(a.root, key, { label: 'provider-b' });
    await refused(b, 'models/round-1.bin', 'wrong-key');
  });

  it('refuses paths that leave the mount', async () => {
    const mount = newMount();
    await assert.rejects(mount.writeFile('../escape', plaintext), RangeError);
    await assert.rejects(mount.readFile('/etc/passwd'), RangeError);
  });

  it('cannot be used after close', async () => {
    const mount = newMount();
    mount.close();
    await assert.rejects(mount.writeFile('x', plaintext), /closed/);
  });
});

describe('sealed mount tampering', () => {
  it('refuses two chunks swapped within a file', async () => {
    const mount = newMount();
    const file = await sealed(mount);
    const bytes = readFileSync(file);
    const [first, second] = [Buffer.from(record(bytes, 0)), Buffer.from(record(bytes, 1))];
    second.copy(bytes, HEADER_BYTES);
    first.copy(bytes, HEADER_BYTES + RECORD);
    writeFileSync(file, bytes);
    assert.match(
      await refused(mount, 'models/round-1.bin', 'tampered'),
      /chunk 0 failed authentication/,
    );
  });

  it('refuses chunks rotated into another order', async () => {
    const mount = newMount();
    const file = await sealed(mount);
    const bytes = readFileSync(file);
    const records = [1, 2, 3, 0].map((i) => Buffer.from(record(bytes, i)));
    records.forEach((r, i) => r.copy(bytes, HEADER_BYTES + i * RECORD));
    writeFileSync(file, bytes);
    await refused(mount, 'models/round-1.bin', 'tampered');
  });

  it('refuses a chunk taken from another file of the same mount, at the same index', async () => {
    const mount = newMount();
    const a = await sealed(mount, 'a.bin');
    const b = await sealed(mount, 'b.bin');
    const bytes = readFileSync(a);
    Buffer.from(record(readFileSync(b), 2)).copy(bytes, HEADER_BYTES + 2 * RECORD);
    writeFileSync(a, bytes);
    assert.match(await refused(mount, 'a.bin', 'tampered'), /chunk 2/);
  });

  it('refuses truncation at a chunk boundary: the final chunk is missing', async () => {
    const mount = newMount();
    const file = await sealed(mount);
    writeFileSync(file, readFileSync(file).subarray(0, HEADER_BYTES + 3 * RECORD));
    assert.match(await refused(mount, 'models/round-1.bin', 'truncated'), /final chunk is missing/);
  });

  it('refuses truncation to the bare header, and inside a chunk', async () => {
    const mount = newMount();
    const file = await sealed(mount);
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, HEADER_BYTES));
    await refused(mount, 'models/round-1.bin', 'truncated');
    writeFileSync(file, whole.subarray(0, HEADER_BYTES + 2 * RECORD + 20));
    await refused(mount, 'models/round-1.bin', 'tampered');
  });

  it('refuses a file extended with a copy of its last chunk', async () => {
    const mount = newMount();
    const file = await sealed(mount, 'c.bin');
    // Make the file end on a full record so that the appended copy is a whole record too.
    await mount.writeFile('c.bin', plaintext.subarray(0, 4 * CHUNK));
    const bytes = readFileSync(file);
    writeFileSync(file, Buffer.concat([bytes, record(bytes, 3)]));
    assert.match(await refused(mount, 'c.bin', 'extended'), /appended after the final chunk 3/);
  });

  it('refuses a file renamed or moved within the mount', async () => {
    const mount = newMount();
    const file = await sealed(mount, 'provider-a.bin');
    renameSync(file, join(mount.root, 'provider-b.bin'));
    await refused(mount, 'provider-b.bin', 'tampered');
  });

  it('refuses a wrong mount key', async () => {
    const mount = newMount();
    await sealed(mount);
    const wrong = new SealedMount(mount.root, randomBytes(32));
    assert.match(await refused(wrong, 'models/round-1.bin', 'wrong-key'), /different mount key/);
  });

  it('refuses header edits: chunk size, file id, version, magic', async () => {
    const mount = newMount();
    const file = await sealed(mount);
    const original = readFileSync(file);
    const edit = (offset: number) => {
      const copy = Buffer.from(original);
      copy[offset] = (copy[offset] as number) ^ 1;
      writeFileSync(file, copy);
    };
    edit(15); // chunk size
    await refused(mount, 'models/round-1.bin', 'tampered');
    edit(20); // file id
    await refused(mount, 'models/round-1.bin', 'wrong-key');
    edit(8); // version
    await refused(mount, 'models/round-1.bin', 'format');
    edit(0); // magic
    await refused(mount, 'models/round-1.bin', 'format');
  });

  it('refuses a single flipped ciphertext bit anywhere in the body', async () => {
    const mount = newMount();
    const file = await sealed(mount);
    const original = readFileSync(file);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: HEADER_BYTES, max: original.length - 1 }), async (at) => {
        const copy = Buffer.from(original);
        copy[at] = (copy[at] as number) ^ 0x80;
        writeFileSync(file, copy);
        await assert.rejects(mount.readFile('models/round-1.bin'), SealedFileError);
      }),
      { numRuns: 30 },
    );
  });

  it('reports a missing file as unreadable', async () => {
    await refused(newMount(), 'absent.bin', 'unreadable');
  });
});

describe('mount key files', () => {
  it('writes 64 hex digits with mode 0600, refuses to overwrite, and reads them back', async () => {
    const path = join(scratch, 'mount.key');
    await writeMountKeyFile(path);
    assert.match(readFileSync(path, 'utf8'), /^[0-9a-f]{64}\n$/);
    await assert.rejects(writeMountKeyFile(path), /EEXIST/);
    assert.equal((await readMountKeyFile(path)).length, 32);
  });

  it('rejects a key file of the wrong size', async () => {
    const path = join(scratch, 'short.key');
    writeFileSync(path, 'abcd\n');
    await assert.rejects(readMountKeyFile(path), /expected 32 bytes/);
  });
});

describe('sealed bytes (a blob stored elsewhere, e.g. a database row)', () => {
  it('are the same format as a file of that name, and open only under it', async () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5 * CHUNK }), (data) => {
        const mount = newMount();
        assert.deepEqual(mount.openBytes('rows/1', mount.sealBytes('rows/1', data)), data);
      }),
      { numRuns: 100 },
    );
    const mount = newMount();
    const bytes = mount.sealBytes('rows/1', plaintext);
    writeFileSync(join(scratch, 'blob'), bytes);
    const asFile = new SealedMount(scratch, key, { chunkSize: CHUNK });
    assert.deepEqual(await asFile.readFile('blob').catch(() => 'refused'), 'refused');
    assert.throws(
      () => mount.openBytes('rows/2', bytes),
      (e) => e instanceof SealedFileError && e.reason === 'tampered',
    );
  });

  it('refuses chunks swapped, truncation, another key', () => {
    const mount = newMount();
    const bytes = mount.sealBytes('rows/1', plaintext);
    const swapped = Buffer.from(bytes);
    const file = Buffer.from(bytes);
    record(file, 0).copy(swapped, HEADER_BYTES + RECORD);
    record(file, 1).copy(swapped, HEADER_BYTES);
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof SealedFileError, String(e));
        return e.reason;
      }
      return 'opened';
    };
    assert.equal(
      reason(() => mount.openBytes('rows/1', swapped)),
      'tampered',
    );
    assert.equal(
      reason(() => mount.openBytes('rows/1', bytes.subarray(0, HEADER_BYTES + 4 * RECORD))),
      'truncated',
    );
    assert.equal(
      reason(() => newMount(randomBytes(32)).openBytes('rows/1', bytes)),
      'wrong-key',
    );
  });
});
