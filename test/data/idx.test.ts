import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { encodeIdx, IdxFormatError, parseIdx, readIdxFile } from '../../src/data/idx.js';

const images = { shape: [2, 3, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) };

/** Asserts that `f` throws an IdxFormatError whose message names `source` and matches `detail`. */
function assertIdxError(f: () => unknown, source: string, detail: RegExp): void {
  assert.throws(f, (error: unknown) => {
    assert.ok(error instanceof IdxFormatError, String(error));
    assert.equal(error.source, source);
    assert.ok(error.message.startsWith(`${source}: `), error.message);
    assert.match(error.message, detail);
    return true;
  });
}

describe('parseIdx', () => {
  it('reads what encodeIdx writes, for any shape', () => {
    const shapes = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(shapes, fc.integer(), (shape, seed) => {
        const length = shape.reduce((a, b) => a * b, 1);
        const data = Uint8Array.from({ length }, (_, i) => (seed + i * 7) & 0xff);
        const parsed = parseIdx(encodeIdx({ shape, data }), 'x');
        assert.deepEqual(parsed.shape, shape);
        assert.deepEqual(parsed.data, data);
      }),
    );
  });

  it('reads the header of a hand-written file', () => {
    const bytes = Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9);
    assert.deepEqual(parseIdx(bytes, 'labels'), { shape: [3], data: Uint8Array.of(7, 8, 9) });
  });

  it('rejects a wrong magic, naming the file', () => {
    assertIdxError(
      () => parseIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), 'f.idx'),
      'f.idx',
      /magic is 0x01000801/,
    );
  });

  it('rejects other element types by name', () => {
    const floats = Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0);
    assertIdxError(
      () => parseIdx(floats, 'f.idx'),
      'f.idx',
      /0xd \(float32\), expected 0x08 \(unsigned byte\)/,
    );
  });

  it('rejects files shorter than the magic or the header', () => {
    assertIdxError(
      () => parseIdx(Uint8Array.of(0, 0), 'f'),
      'f',
      /2 bytes, shorter than the 4-byte magic/,
    );
    assertIdxError(
      () => parseIdx(Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 1), 'f'),
      'f',
      /truncated header: 3 dimensions need 16 bytes, the file has 8/,
    );
    assertIdxError(() => parseIdx(Uint8Array.of(0, 0, 8, 0), 'f'), 'f', /dimension count is 0/);
  });

  it('rejects truncated data and trailing bytes, with the lengths', () => {
    const bytes = encodeIdx(images);
    assertIdxError(
      () => parseIdx(bytes.subarray(0, bytes.length - 1), 'f'),
      'f',
      /shape \[2, 3, 2\] needs 12 data bytes, the file has 11 \(truncated\)/,
    );
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assertIdxError(() => parseIdx(longer, 'f'), 'f', /has 13 \(trailing bytes\)/);
  });

  it('encodeIdx refuses data that does not fill the shape', () => {
    assert.throws(
      () => encodeIdx({ shape: [2, 2], data: new Uint8Array(3) }),
      /needs 4 values, got 3/,
    );
  });
});

describe('readIdxFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sepal-idx-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('reads plain and gzipped files, recognising gzip by its magic, not the name', async () => {
    const plain = await readIdxFile(write('plain', encodeIdx(images)));
    const gzipped = await readIdxFile(write('gzipped-without-suffix', gzipSync(encodeIdx(images))));
    assert.deepEqual(plain, gzipped);
    assert.deepEqual(plain.shape, images.shape);
    assert.deepEqual(plain.data, images.data);
  });

  it('names the file when the gzip stream is cut short', async () => {
    const gz = gzipSync(encodeIdx(images));
    const path = write('cut.gz', gz.subarray(0, gz.length - 10));
    await assert.rejects(readIdxFile(path), (error: unknown) => {
      assert.ok(error instanceof IdxFormatError);
      assert.equal(error.source, path);
      assert.match(error.message, /gzip stream is corrupt or truncated/);
      return true;
    });
  });

  it('names the file when its contents are truncated', async () => {
    const bytes = encodeIdx(images);
    const path = write('short.gz', gzipSync(bytes.subarray(0, bytes.length - 5)));
    await assert.rejects(
      readIdxFile(path),
      new RegExp(`^IdxFormatError: ${path}: .*\\(truncated\\)`),
    );
  });
});
