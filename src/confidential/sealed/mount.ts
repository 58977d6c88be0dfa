// A sealed mount: a directory whose files are stored encrypted and authenticated (format.ts)
// under one mount key. Callers name files by their path relative to the mount; that path is
// bound into every chunk, so a file only opens under the name it was sealed as.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { backend } from '../../crypto/backend.js';
import { concatBytes, utf8, zeroize } from '../../crypto/bytes.js';
import { isSafeRelativePath } from '../relative-path.js';
import { SealedFileError } from './errors.js';
import {
  DEFAULT_CHUNK_SIZE,
  HEADER_BYTES,
  type Header,
  newHeader,
  openChunk,
  openHeader,
  sealChunk,
  TAG_BYTES,
} from './format.js';

const MOUNT_KEY_INFO = 'sepal sealed mount v1';
/** I/O granularity: one system call per 64 KiB chunk would cost more than the encryption. */
const IO_BATCH_BYTES = 1024 * 1024;

export interface SealedMountOptions {
  /**
   * Separates mounts that share key material (e.g. one enclave sealing key for several data
   * providers): each label yields an unrelated mount key. Default "default".
   */
  readonly label?: string;
  /** Plaintext bytes per chunk for files written; readers take it from each file. */
  readonly chunkSize?: number;
}

export class SealedMount {
  readonly #key: Uint8Array;
  readonly #chunkSize: number;
  #closed = false;

  /**
   * @param root the mount's directory (created on first write).
   * @param keyMaterial secret bytes from a key file or the enclave sealing key (keys.ts); the
   *   mount key is HKDF-SHA256(keyMaterial, info = "sepal sealed mount v1" 0x00 label).
   */
  constructor(
    readonly root: string,
    keyMaterial: Uint8Array,
    options: SealedMountOptions = {},
  ) {
    if (keyMaterial.length < 16) throw new RangeError('key material must be at least 16 bytes');
    const info = utf8(`${MOUNT_KEY_INFO}\0${options.label ?? 'default'}`);
    this.#key = backend.hkdfSha256(keyMaterial, new Uint8Array(0), info, 32);
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  }

  /** Seals `data` as `path`; the file appears whole (atomic rename) or not at all. */
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    await this.writeStream(path, [data]);
  }

  /** Seals a stream of any size as `path`, holding about 1 MiB of it at a time. */
  async writeStream(
    path: string,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<void> {
    const key = this.#mountKey();
    const target = this.#resolve(path);
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.${randomBytes(8).toString('hex')}.partial`;
    const { header, key: fileKey } = newHeader(key, this.#chunkSize, randomBytes(32));
    const file = await open(temporary, 'wx', 0o600);
    try {
      let batch: Uint8Array[] = [header.bytes];
      let batched = header.bytes.length;
      let index = 0;
      for await (const chunk of rechunk(source, this.#chunkSize)) {
        const record = sealChunk(fileKey, header, path, index, chunk.final, chunk.bytes);
        batch.push(record);
        batched += record.length;
        index++;
        if (batched >= IO_BATCH_BYTES || chunk.final) {
          await file.writev(batch);
          batch = [];
          batched = 0;
        }
      }
      await file.sync();
      await file.close();
      await rename(temporary, target);
    } catch (error) {
      await file.close().catch(() => undefined);
      await rm(temporary, { force: true });
      throw error;
    } finally {
      zeroize(fileKey);
    }
  }

  /**
   * The plaintext of `path`, returned only once every chunk and the end of the file have been
   * authenticated: on any failure a SealedFileError is thrown and nothing is returned.
   */
  async readFile(path: string): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of this.readStream(path)) chunks.push(chunk);
    } catch (error) {
      for (const chunk of chunks) zeroize(chunk);
      throw error;
    }
    const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
      zeroize(chunk);
    }
    return out;
  }

  /**
   * Streams the plaintext of `path`, chunk by chunk. Each chunk is authenticated before it is
   * yielded, but truncation can only be detected at the end: a consumer must discard what it
   * received when the stream throws. Use readFile for all-or-nothing.
   */
  async *readStream(path: string): AsyncGenerator<Uint8Array> {
    const key = this.#mountKey();
    const file = await openOrExplain(this.#resolve(path), path);
    try {
      const size = (await file.stat()).size;
      const { header, key: fileKey } = openHeader(await readAt(file, 0, HEADER_BYTES), key, path);
      try {
        const record = header.chunkSize + TAG_BYTES;
        const count = recordCount(path, size - HEADER_BYTES, record);
        // Read about 1 MiB of records at a time, then authenticate them one by one.
        const perRead = Math.max(1, Math.floor(IO_BATCH_BYTES / record));
        for (let first = 0; first < count; first += perRead) {
          const start = HEADER_BYTES + first * record;
          const block = await readAt(file, start, Math.min(perRead * record, size - start));
          for (let index = first; index < Math.min(first + perRead, count); index++) {
            const offset = (index - first) * record;
            const bytes = block.subarray(offset, offset + record);
            const final = index === count - 1;
            const plain = openChunk(fileKey, header, path, index, final, bytes);
            if (plain === undefined) throw explain(fileKey, header, path, index, final, bytes);
            yield plain;
          }
        }
      } finally {
        zeroize(fileKey);
      }
    } finally {
      await file.close();
    }
  }

  /**
   * Seals `data` in the sealed file format and returns the bytes, for stores that are not this
   * directory (a database row, a network message): `path` names it and is bound in as for a file,
   * so `openBytes` opens it only under the same name and mount key.
   */
  sealBytes(path: string, data: Uint8Array): Uint8Array {
    const { header, key } = newHeader(this.#mountKey(), this.#chunkSize, randomBytes(32));
    try {
      const size = header.chunkSize;
      const count = Math.max(1, Math.ceil(data.length / size));
      const records = Array.from({ length: count }, (_, index) =>
        sealChunk(
          key,
          header,
          path,
          index,
          index === count - 1,
          data.subarray(index * size, (index + 1) * size),
        ),
      );
      return concatBytes(header.bytes, ...records);
    } finally {
      zeroize(key);
    }
  }

  /** The plaintext of bytes made by `sealBytes(path, …)`, all or nothing (SealedFileError). */
  openBytes(path: string, sealed: Uint8Array): Uint8Array {
    const { header, key } = openHeader(sealed, this.#mountKey(), path);
    const chunks: Uint8Array[] = [];
    try {
      const record = header.chunkSize + TAG_BYTES;
      const count = recordCount(path, sealed.length - HEADER_BYTES, record);
      for (let index = 0; index < count; index++) {
        const start = HEADER_BYTES + index * record;
        const bytes = sealed.subarray(start, start + record);
        const final = index === count - 1;
        const plain = openChunk(key, header, path, index, final, bytes);
        if (plain === undefined) throw explain(key, header, path, index, final, bytes);
        chunks.push(plain);
      }
      return concatBytes(...chunks);
    } finally {
      zeroize(key, ...chunks);
    }
  }

  /** Erases the mount key; the mount cannot be used afterwards. */
  close(): void {
    zeroize(this.#key);
    this.#closed = true;
  }

  #mountKey(): Uint8Array {
    if (this.#closed) throw new Error('the sealed mount is closed');
    return this.#key;
  }

  #resolve(path: string): string {
    if (!isSafeRelativePath(path)) {
      throw new RangeError(`"${path}" is not a relative '/'-separated path inside the mount`);
    }
    return join(this.root, ...path.split('/'));
  }
}

/** How many records a body of `body` bytes holds; throws when it cannot be whole. */
function recordCount(path: string, body: number, record: number): number {
  if (body < TAG_BYTES) {
    throw new SealedFileError(path, 'truncated', 'the file ends before its final chunk');
  }
  const count = Math.ceil(body / record);
  if (body - (count - 1) * record < TAG_BYTES) {
    throw new SealedFileError(path, 'truncated', 'the last chunk is cut short');
  }
  return count;
}

/**
 * Why record `index` failed, for the error message. The record is tried in the other final
 * position only to tell truncation and extension apart from tampering; what that yields is
 * erased, never returned.
 */
function explain(
  key: Uint8Array,
  header: Header,
  path: string,
  index: number,
  final: boolean,
  bytes: Uint8Array,
): SealedFileError {
  const other = openChunk(key, header, path, index, !final, bytes);
  if (other !== undefined) {
    zeroize(other);
    return final
      ? new SealedFileError(
          path,
          'truncated',
          `the file was cut after chunk ${index}: its final chunk is missing`,
        )
      : new SealedFileError(path, 'extended', `data was appended after the final chunk ${index}`);
  }
  return new SealedFileError(
    path,
    'tampered',
    `chunk ${index} failed authentication: the file was altered, its chunks reordered or swapped, or it was sealed under another path`,
  );
}

async function* rechunk(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
): AsyncGenerator<{ bytes: Uint8Array; final: boolean }> {
  let pending: Uint8Array = new Uint8Array(0);
  for await (const piece of source) {
    if (pending.length === 0) {
      pending = piece; // no copy: a whole file passed in one piece is only viewed
    } else {
      const joined = new Uint8Array(pending.length + piece.length);
      joined.set(pending);
      joined.set(piece, pending.length);
      pending = joined;
    }
    // Emit a chunk only once more bytes are known to follow it: then it is not the last one.
    while (pending.length > size) {
      yield { bytes: pending.subarray(0, size), final: false };
      pending = pending.subarray(size);
    }
  }
  yield { bytes: pending, final: true };
}

async function openOrExplain(target: string, path: string): Promise<FileHandle> {
  try {
    return await open(target, 'r');
  } catch (error) {
    throw new SealedFileError(path, 'unreadable', `cannot open: ${(error as Error).message}`);
  }
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}
