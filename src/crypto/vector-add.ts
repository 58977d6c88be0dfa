/**
 * Adds keystream blocks to a vector of 32-bit words modulo 2^32: the inner loop of masking.
 *
 * The fast path is a hand-encoded WebAssembly module (below) whose loop adds four words at a time
 * with i32x4.add / i32x4.sub; it runs unchanged under Node and in browsers. Where WebAssembly SIMD
 * is missing, compilation is refused (e.g. a Content-Security-Policy without 'wasm-unsafe-eval'),
 * or the host is big-endian, a plain JavaScript loop computes the same words.
 *
 * Both paths read keystream bytes as little-endian words, so masks are identical on every host.
 */

import { backend } from './backend.js';

/** Unsigned LEB128, the encoding of every length and index in a WebAssembly binary. */
function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    const low = value & 0x7f;
    value >>>= 7;
    out.push(value === 0 ? low : low | 0x80);
  } while (value !== 0);
  return out;
}

const sized = (bytes: number[]): number[] => [...leb128(bytes.length), ...bytes];
const section = (id: number, bytes: number[]): number[] => [id, ...sized(bytes)];
const name = (text: string): number[] => sized([...text].map((c) => c.charCodeAt(0)));

/**
 * Body of `add` and `sub`, both of type (dst, src, n) -> (): for i < n, the word at byte address
 * dst + 4i becomes itself ∘ the word at src + 4i (mod 2^32). Locals: 0 dst, 1 src, 2 n, 3 end.
 * The SIMD loop covers n & ~3 words, the scalar loop the remaining n & 3.
 */
function body(vectorOp: number[], scalarOp: number): number[] {
  const memarg16 = [0x04, 0x00]; // align 2^4 (a hint; never traps), offset 0
  const memarg4 = [0x02, 0x00]; // align 2^2, offset 0
  // prettier-ignore
  return [
    0x01, 0x01, 0x7f, // one local declaration: 1 × i32 (end)
    // end = dst + ((n & -4) << 2): the byte address where whole 4-word vectors stop
    0x20, 0x00, //       local.get dst
    0x20, 0x02, //       local.get n
    0x41, 0x7c, //       i32.const -4
    0x71, //             i32.and
    0x41, 0x02, //       i32.const 2
    0x74, //             i32.shl
    0x6a, //             i32.add
    0x21, 0x03, //       local.set end
    0x02, 0x40, //       block
    0x03, 0x40, //         loop
    0x20, 0x00, 0x20, 0x03, 0x4f, //    local.get dst; local.get end; i32.ge_u
    0x0d, 0x01, //           br_if 1 (done: leave the block)
    0x20, 0x00, //           local.get dst (address of the store)
    0x20, 0x00, 0xfd, 0x00, ...memarg16, // local.get dst; v128.load
    0x20, 0x01, 0xfd, 0x00, ...memarg16, // local.get src; v128.load
    ...vectorOp, //          i32x4.add or i32x4.sub
    0xfd, 0x0b, ...memarg16, // v128.store
    0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, // dst += 16
    0x20, 0x01, 0x41, 0x10, 0x6a, 0x21, 0x01, // src += 16
    0x0c, 0x00, //           br 0 (next iteration)
    0x0b, //               end loop
    0x0b, //             end block
    // end = dst + ((n & 3) << 2): the byte address where the remaining words stop
    0x20, 0x00, //       local.get dst
    0x20, 0x02, //       local.get n
    0x41, 0x03, //       i32.const 3
    0x71, //             i32.and
    0x41, 0x02, //       i32.const 2
    0x74, //             i32.shl
    0x6a, //             i32.add
    0x21, 0x03, //       local.set end
    0x02, 0x40, //       block
    0x03, 0x40, //         loop
    0x20, 0x00, 0x20, 0x03, 0x4f, //    local.get dst; local.get end; i32.ge_u
    0x0d, 0x01, //           br_if 1
    0x20, 0x00, //           local.get dst (address of the store)
    0x20, 0x00, 0x28, ...memarg4, // local.get dst; i32.load
    0x20, 0x01, 0x28, ...memarg4, // local.get src; i32.load
    scalarOp, //             i32.add or i32.sub
    0x36, ...memarg4, //     i32.store
    0x20, 0x00, 0x41, 0x04, 0x6a, 0x21, 0x00, // dst += 4
    0x20, 0x01, 0x41, 0x04, 0x6a, 0x21, 0x01, // src += 4
    0x0c, 0x00, //           br 0
    0x0b, //               end loop
    0x0b, //             end block
    0x0b, //           end function
  ];
}

// prettier-ignore
const WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, // magic "\0asm"
  0x01, 0x00, 0x00, 0x00, // version 1
  // type section: one function type, (i32 i32 i32) -> ()
  ...section(0x01, [0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00]),
  // function section: two functions (add, sub), both of type 0
  ...section(0x03, [0x02, 0x00, 0x00]),
  // memory section: one memory, no maximum, minimum 0 pages (grown from JS to the capacity)
  ...section(0x05, [0x01, 0x00, 0x00]),
  // export section: "memory" = memory 0, "add" = function 0, "sub" = function 1
  ...section(0x07, [0x03, ...name('memory'), 0x02, 0x00, ...name('add'), 0x00, 0x00, ...name('sub'), 0x00, 0x01]),
  // code section: two bodies; add uses i32x4.add (0xfd 0xae 0x01) and i32.add (0x6a), sub uses
  // i32x4.sub (0xfd 0xb1 0x01) and i32.sub (0x6b)
  ...section(0x0a, [0x02, ...sized(body([0xfd, 0xae, 0x01], 0x6a)), ...sized(body([0xfd, 0xb1, 0x01], 0x6b))]),
]);

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const PAGE_BYTES = 1 << 16;

/**
 * The compiled module, or undefined when this host cannot run it. Synchronous compilation is fine
 * here: browsers limit it on the main thread only for modules over 4 KiB, and this one is ~300 B.
 */
const SIMD_MODULE: WebAssembly.Module | undefined = (() => {
  // The JS side copies host-endian Uint32Array words into little-endian WebAssembly memory.
  if (!LITTLE_ENDIAN || typeof WebAssembly !== 'object' || !WebAssembly.validate(WASM))
    return undefined;
  try {
    return new WebAssembly.Module(WASM);
  } catch {
    return undefined; // compilation forbidden by policy
  }
})();

/** Whether {@link createAccumulator} returns the WebAssembly SIMD accumulator on this host. */
export const simdAvailable = SIMD_MODULE !== undefined;

/**
 * A working vector that keystream blocks are added to or subtracted from, modulo 2^32. Use:
 * `load(words)`, then any number of `add`, then `store()` to leave the result in `words`.
 * Between `load` and `store`, `words` itself may or may not be up to date.
 */
export interface WordAccumulator {
  /** The longest vector `load` accepts, in words. */
  readonly capacity: number;
  /** Makes `words` (at most `capacity` long) the working vector. */
  load(words: Uint32Array): void;
  /**
   * Adds (sign 1) or subtracts (sign -1) the little-endian words of `bytes` to the first
   * `bytes.length / 4` words of the working vector; `bytes.length` is a multiple of 4 and at most
   * 4 × the loaded length.
   */
  add(bytes: Uint8Array, sign: 1 | -1): void;
  /** Writes the working vector back into the array given to `load`. */
  store(): void;
}

function checkLength(bytes: Uint8Array, loaded: number): number {
  const words = bytes.length >>> 2;
  if (bytes.length % 4 !== 0 || words > loaded) {
    throw new RangeError(`cannot add ${bytes.length} bytes to a vector of ${loaded} words`);
  }
  return words;
}

type Kernel = (dst: number, src: number, n: number) => void;

/**
 * Memory layout: keystream block at [0, 4 × capacity), working vector right after it. capacity is
 * a multiple of 4, so both start 16-byte aligned as the v128 accesses prefer.
 */
class SimdAccumulator implements WordAccumulator {
  readonly capacity: number;
  readonly #add: Kernel;
  readonly #sub: Kernel;
  readonly #scratch: Uint8Array;
  readonly #working: Uint32Array;
  #target: Uint32Array = new Uint32Array(0);

  constructor(module: WebAssembly.Module, capacity: number) {
    this.capacity = capacity;
    const { exports } = new WebAssembly.Instance(module);
    const memory = exports['memory'] as WebAssembly.Memory;
    memory.grow(Math.ceil((8 * capacity) / PAGE_BYTES));
    // The memory never grows again, so these views never detach.
    this.#scratch = new Uint8Array(memory.buffer, 0, 4 * capacity);
    this.#working = new Uint32Array(memory.buffer, 4 * capacity, capacity);
    this.#add = exports['add'] as Kernel;
    this.#sub = exports['sub'] as Kernel;
  }

  load(words: Uint32Array): void {
    if (words.length > this.capacity)
      throw new RangeError(`vector of ${words.length} words exceeds ${this.capacity}`);
    this.#working.set(words);
    this.#target = words;
  }

  add(bytes: Uint8Array, sign: 1 | -1): void {
    const n = checkLength(bytes, this.#target.length);
    this.#scratch.set(bytes);
    (sign === 1 ? this.#add : this.#sub)(this.#working.byteOffset, 0, n);
  }

  store(): void {
    this.#target.set(this.#working.subarray(0, this.#target.length));
  }
}

/** Reads little-endian 32-bit words out of bytes, without a copy when the host allows. */
function wordsOf(bytes: Uint8Array, n: number): Uint32Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0)
    return new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}

/**
 * Works on the loaded array in place, through an Int32Array view: int32 loads keep V8 in integer
 * arithmetic, where uint32 loads above 2^31 would force floating point.
 */
class ScalarAccumulator implements WordAccumulator {
  readonly capacity: number;
  #target: Int32Array = new Int32Array(0);

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  load(words: Uint32Array): void {
    if (words.length > this.capacity)
      throw new RangeError(`vector of ${words.length} words exceeds ${this.capacity}`);
    this.#target = new Int32Array(words.buffer, words.byteOffset, words.length);
  }

  add(bytes: Uint8Array, sign: 1 | -1): void {
    const n = checkLength(bytes, this.#target.length);
    const mask = wordsOf(bytes, n);
    const target = this.#target;
    // `| 0` wraps the sum modulo 2^32 into int32 range, the same bits as the uint32 result.
    if (sign === 1) {
      for (let i = 0; i < n; i++) target[i] = ((target[i] as number) + (mask[i] as number)) | 0;
    } else {
      for (let i = 0; i < n; i++) target[i] = ((target[i] as number) - (mask[i] as number)) | 0;
    }
  }

  store(): void {
    // The target was updated in place.
  }
}

/**
 * An accumulator for vectors of up to `capacity` words: WebAssembly SIMD where available (unless
 * `simd` is false, which tests use to reach the fallback), otherwise the JavaScript loop.
 */
export function createAccumulator(capacity: number, simd = true): WordAccumulator {
  if (!Number.isSafeInteger(capacity) || capacity < 0)
    throw new RangeError(`bad capacity ${capacity}`);
  const rounded = Math.ceil(capacity / 4) * 4;
  return simd && SIMD_MODULE !== undefined
    ? new SimdAccumulator(SIMD_MODULE, rounded)
    : new ScalarAccumulator(rounded);
}

const ADD_CHUNK_WORDS = 1 << 14;
let sharedAccumulator: WordAccumulator | undefined;

/**
 * target += source, word by word, modulo 2^32 (the server adding a masked vector into its sum).
 * The native kernel does it where the backend has one. Otherwise the accumulator takes a chunk at
 * a time: even with its copies in and out of WebAssembly memory, i32x4.add is several times
 * faster than a JavaScript loop over typed arrays.
 */
export function addWordsInto(target: Uint32Array, source: Uint32Array): void {
  if (source.length !== target.length) {
    throw new RangeError(`cannot add ${source.length} words to a vector of ${target.length}`);
  }
  if (backend.addWords !== undefined) return backend.addWords(target, source);
  // The accumulator reads little-endian bytes; a byte view of host words is that only on LE hosts.
  const bytes = LITTLE_ENDIAN
    ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
    : new Uint8Array(Uint32Array.from(source, (word) => swapBytes(word)).buffer);
  const accumulator = (sharedAccumulator ??= createAccumulator(ADD_CHUNK_WORDS));
  for (let start = 0; start < target.length; start += ADD_CHUNK_WORDS) {
    const end = Math.min(target.length, start + ADD_CHUNK_WORDS);
    accumulator.load(target.subarray(start, end));
    accumulator.add(bytes.subarray(4 * start, 4 * end), 1);
    accumulator.store();
  }
}

const swapBytes = (word: number): number =>
  (((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) >>> 0;
