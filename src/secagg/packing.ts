/**
 * Masked vectors travel packed at log2(modRange) bits per entry, little-endian: entry i occupies
 * bits [i * bits, (i + 1) * bits) of the byte string. 32-bit entries are plain little-endian
 * words, read without copying when the buffer allows.
 */
import { ProtocolError } from './errors.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export const packedBytes = (length: number, bits: number): number => Math.ceil((length * bits) / 8);

/**
 * Packs `values` (each already below 2^bits) at `bits` bits per entry. At 32 bits on a
 * little-endian host the result is a view of `values` itself, not a copy: the encoder copies it
 * into the message once, and a copy here would be a second 4 bytes per entry of garbage.
 */
export function pack(values: Uint32Array, bits: number): Uint8Array {
  if (bits === 32 && LITTLE_ENDIAN) {
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  const out = new Uint8Array(packedBytes(values.length, bits));
  let bitPos = 0;
  for (let i = 0; i < values.length; i++, bitPos += bits) {
    let value = values[i] as number;
    let byte = bitPos >>> 3;
    let shift = bitPos & 7;
    let remaining = bits;
    while (remaining > 0) {
      const take = Math.min(8 - shift, remaining);
      out[byte] = (out[byte] as number) | ((value & ((1 << take) - 1)) << shift);
      value = take === 32 ? 0 : value >>> take;
      remaining -= take;
      shift = 0;
      byte++;
    }
  }
  return out;
}

/** Inverse of {@link pack}; refuses a byte string of the wrong size or with stray high bits. */
export function unpack(bytes: Uint8Array, length: number, bits: number): Uint32Array {
  const expected = packedBytes(length, bits);
  if (bytes.length !== expected) {
    throw new ProtocolError(
      `packed vector of ${length} entries at ${bits} bits must be ${expected} bytes, got ${bytes.length}`,
    );
  }
  if (bits === 32 && LITTLE_ENDIAN) {
    if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, length);
    return new Uint32Array(bytes.slice().buffer);
  }
  const out = new Uint32Array(length);
  let bitPos = 0;
  for (let i = 0; i < length; i++, bitPos += bits) {
    let value = 0;
    let byte = bitPos >>> 3;
    let shift = bitPos & 7;
    let got = 0;
    while (got < bits) {
      const take = Math.min(8 - shift, bits - got);
      value += (((bytes[byte] as number) >>> shift) & ((1 << take) - 1)) * 2 ** got;
      got += take;
      shift = 0;
      byte++;
    }
    out[i] = value;
  }
  const usedBits = length * bits;
  if (usedBits % 8 !== 0 && (bytes[bytes.length - 1] as number) >>> (usedBits % 8) !== 0) {
    throw new ProtocolError('packed vector has non-zero padding bits');
  }
  return out;
}
