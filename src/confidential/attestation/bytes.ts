// Bounds-checked little-endian reading of binary structures. Every read names the field it is
// reading so that a short or inconsistent input becomes a typed error, never an out-of-range read.
import type { FormatErrorFactory } from './errors.js';

export class ByteReader {
  #offset = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly fail: FormatErrorFactory,
  ) {}

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.bytes.length - this.#offset;
  }

  /** The next `length` bytes (a view, not a copy). */
  take(length: number, field: string): Uint8Array {
    if (length > this.remaining) {
      throw this.fail(
        field,
        `${length} bytes at offset ${this.#offset}, but only ${this.remaining} remain`,
      );
    }
    const view = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return view;
  }

  u16(field: string): number {
    const b = this.take(2, field);
    return (b[0] as number) | ((b[1] as number) << 8);
  }

  u32(field: string): number {
    const b = this.take(4, field);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  rest(): Uint8Array {
    return this.take(this.remaining, 'rest');
  }
}

/** Decodes an even-length hex string; returns undefined for anything else so callers name the field. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// Shared with the rest of Sepal rather than written twice.
export { bytesToHex as toHex, equalBytes as bytesEqual, concatBytes } from '../../crypto/bytes.js';
