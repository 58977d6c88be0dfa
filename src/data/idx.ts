/**
 * The IDX format of the MNIST family (LeCun et al.): a 4-byte magic (two zero bytes, a type code,
 * the dimension count), one big-endian uint32 per dimension, then the values in row-major order.
 * Only the unsigned-byte type (0x08) is read and written: it is the type of every image and label
 * file in MNIST and Fashion-MNIST, and supporting the others would be code no caller runs.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  readonly shape: readonly number[];
  /** Row-major values; length is the product of `shape`. */
  readonly data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** A file that is not a well-formed unsigned-byte IDX file; the message names the file. */
export class IdxFormatError extends Error {
  override name = 'IdxFormatError';
  constructor(
    readonly source: string,
    detail: string,
  ) {
    super(`${source}: not a valid unsigned-byte IDX file: ${detail}`);
  }
}

export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4) {
    throw new IdxFormatError(source, `${bytes.length} bytes, shorter than the 4-byte magic`);
  }
  const type = bytes[2] as number;
  const dims = bytes[3] as number;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0'));
    throw new IdxFormatError(source, `magic is 0x${magic.join('')}, expected 0x0000 then type`);
  }
  if (type !== UNSIGNED_BYTE) {
    const name = TYPE_NAMES[type] ?? 'unknown';
    throw new IdxFormatError(
      source,
      `type code 0x${type.toString(16)} (${name}), expected 0x08 (unsigned byte)`,
    );
  }
  if (dims < 1) throw new IdxFormatError(source, 'dimension count is 0, expected at least 1');
  const headerLength = 4 + 4 * dims;
  if (bytes.length < headerLength) {
    throw new IdxFormatError(
      source,
      `truncated header: ${dims} dimensions need ${headerLength} bytes, the file has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual !== expected) {
    throw new IdxFormatError(
      source,
      `shape [${shape.join(', ')}] needs ${expected} data bytes, the file has ${actual}` +
        (actual < expected ? ' (truncated)' : ' (trailing bytes)'),
    );
  }
  return { shape, data: bytes.subarray(headerLength) };
}

/** The IDX encoding of `array` (used to write the bundled subset and test fixtures). */
export function encodeIdx(array: IdxArray): Uint8Array {
  const expected = array.shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== expected) {
    throw new RangeError(
      `shape [${array.shape.join(', ')}] needs ${expected} values, got ${array.data.length}`,
    );
  }
  const headerLength = 4 + 4 * array.shape.length;
  const out = new Uint8Array(headerLength + array.data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, UNSIGNED_BYTE, array.shape.length]);
  array.shape.forEach((size, i) => view.setUint32(4 + 4 * i, size, false));
  out.set(array.data, headerLength);
  return out;
}

/** Reads an IDX file, gunzipping it first when it starts with the gzip magic (whatever its name). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const raw = new Uint8Array(await readFile(path));
  const gzipped = raw[0] === GZIP_MAGIC[0] && raw[1] === GZIP_MAGIC[1];
  let bytes = raw;
  if (gzipped) {
    try {
      bytes = new Uint8Array(gunzipSync(raw));
    } catch (error) {
      throw new IdxFormatError(path, `gzip stream is corrupt or truncated (${String(error)})`);
    }
  }
  return parseIdx(bytes, path);
}
