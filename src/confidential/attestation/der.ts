// A minimal DER reader for the few ASN.1 structures this package decodes itself: X.509
// certificates (to reach the TBS bytes, names, validity and the SGX extension) and CRLs.
// It only accepts definite lengths and single-byte tags, which is all DER in these structures uses.
import { toHex } from './bytes.js';
import type { FormatErrorFactory } from './errors.js';

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  enumerated: 0x0a,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
} as const;

/** A context-specific constructed tag [n], as used for explicit tagging. */
export const contextTag = (n: number): number => 0xa0 | n;

export class DerNode {
  private constructor(
    /** Identifier octet. */
    readonly tag: number,
    /** The whole TLV encoding (what signatures cover, e.g. a TBSCertificate). */
    readonly raw: Uint8Array,
    /** The value octets. */
    readonly content: Uint8Array,
    /** Human-readable location, used in error messages. */
    readonly path: string,
    private readonly fail: FormatErrorFactory,
  ) {}

  /** Decodes `bytes`, which must hold exactly one element. */
  static parse(bytes: Uint8Array, path: string, fail: FormatErrorFactory): DerNode {
    const { node, end } = DerNode.readAt(bytes, 0, path, fail);
    if (end !== bytes.length) {
      throw fail(path, `one DER element of ${end} bytes, found ${bytes.length - end} extra bytes`);
    }
    return node;
  }

  private static readAt(
    bytes: Uint8Array,
    start: number,
    path: string,
    fail: FormatErrorFactory,
  ): { node: DerNode; end: number } {
    const tag = bytes[start];
    const first = bytes[start + 1];
    if (tag === undefined || first === undefined) throw fail(path, 'a DER tag and length');
    if ((tag & 0x1f) === 0x1f) throw fail(path, 'a single-byte DER tag');
    let length = first;
    let headerLength = 2;
    if (first & 0x80) {
      const count = first & 0x7f;
      // Four length octets cover any structure that fits in memory; 0x80 (indefinite) is not DER.
      if (count === 0 || count > 4) throw fail(path, 'a definite DER length of 1-4 octets');
      length = 0;
      for (let i = 0; i < count; i++) {
        const octet = bytes[start + 2 + i];
        if (octet === undefined) throw fail(path, 'a complete DER length');
        length = length * 256 + octet;
      }
      headerLength += count;
    }
    const contentStart = start + headerLength;
    const end = contentStart + length;
    if (end > bytes.length) {
      throw fail(path, `${length} content bytes, but only ${bytes.length - contentStart} remain`);
    }
    const node = new DerNode(
      tag,
      bytes.subarray(start, end),
      bytes.subarray(contentStart, end),
      path,
      fail,
    );
    return { node, end };
  }

  /** Throws unless this element has the given tag. */
  expect(tag: number, what: string): this {
    if (this.tag !== tag) {
      throw this.fail(
        this.path,
        `${what} (tag 0x${tag.toString(16)}), found tag 0x${this.tag.toString(16)}`,
      );
    }
    return this;
  }

  /** The elements inside a constructed value (SEQUENCE, SET or explicit tag). */
  children(): DerNode[] {
    const out: DerNode[] = [];
    let offset = 0;
    while (offset < this.content.length) {
      const path = `${this.path}[${out.length}]`;
      const { node, end } = DerNode.readAt(this.content, offset, path, this.fail);
      out.push(node);
      offset = end;
    }
    return out;
  }

  /** Child `index`, which must exist. */
  child(index: number, what: string): DerNode {
    const node = this.children()[index];
    if (node === undefined) throw this.fail(`${this.path}[${index}]`, what);
    return node;
  }

  oid(): string {
    this.expect(Tag.oid, 'an OBJECT IDENTIFIER');
    const last = this.content[this.content.length - 1];
    if (last === undefined || last & 0x80) {
      throw this.fail(this.path, 'a non-empty OBJECT IDENTIFIER with a terminated last arc');
    }
    // BigInt: arcs may exceed 2^53 (2.25.<UUID> OIDs carry a 128-bit arc).
    const values: bigint[] = [];
    let value = 0n;
    for (const octet of this.content) {
      value = value * 128n + BigInt(octet & 0x7f);
      if (!(octet & 0x80)) {
        values.push(value);
        value = 0n;
      }
    }
    // The first encoded value packs the first two arcs as 40 * arc0 + arc1 (arc0 <= 2).
    const [head = 0n, ...tail] = values;
    const firstArcs = head < 80n ? [head / 40n, head % 40n] : [2n, head - 80n];
    return [...firstArcs, ...tail].join('.');
  }

  /** An INTEGER as lower-case hex of its content octets (serial numbers are compared this way). */
  integerHex(): string {
    this.expect(Tag.integer, 'an INTEGER');
    if (this.content.length === 0) throw this.fail(this.path, 'a non-empty INTEGER');
    return toHex(this.content);
  }

  /** A small non-negative INTEGER or ENUMERATED (SVNs, versions). */
  smallInteger(): number {
    if (this.tag !== Tag.integer && this.tag !== Tag.enumerated) {
      this.expect(Tag.integer, 'an INTEGER');
    }
    if (
      this.content.length === 0 ||
      this.content.length > 4 ||
      (this.content[0] as number) & 0x80
    ) {
      throw this.fail(this.path, 'a non-negative INTEGER of at most 4 octets');
    }
    return this.content.reduce((value, octet) => value * 256 + octet, 0);
  }

  octets(): Uint8Array {
    return this.expect(Tag.octetString, 'an OCTET STRING').content;
  }

  /** BIT STRING content without its unused-bits octet (which must be 0 for keys and signatures). */
  bitStringBytes(): Uint8Array {
    this.expect(Tag.bitString, 'a BIT STRING');
    if (this.content[0] !== 0) throw this.fail(this.path, 'a BIT STRING with 0 unused bits');
    return this.content.subarray(1);
  }

  boolean(): boolean {
    this.expect(Tag.boolean, 'a BOOLEAN');
    if (this.content.length !== 1) throw this.fail(this.path, 'a one-octet BOOLEAN');
    return this.content[0] !== 0;
  }

  isTime(): boolean {
    return this.tag === Tag.utcTime || this.tag === Tag.generalizedTime;
  }

  /** UTCTime (YYMMDDHHMMSSZ, years 1950-2049 per RFC 5280) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
  time(): Date {
    const text = new TextDecoder().decode(this.content);
    const pattern = this.tag === Tag.utcTime ? /^(\d{2})(\d{10})Z$/ : /^(\d{4})(\d{10})Z$/;
    const match = this.isTime() ? pattern.exec(text) : null;
    if (match === null) throw this.fail(this.path, 'a UTCTime or GeneralizedTime ending in Z');
    const [, yearText = '', rest = ''] = match;
    let year = Number(yearText);
    if (this.tag === Tag.utcTime) year += year < 50 ? 2000 : 1900;
    const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((i) =>
      Number(rest.slice(i, i + 2)),
    ) as [number, number, number, number, number];
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      throw this.fail(this.path, `a valid calendar date, found ${text}`);
    }
    return date;
  }
}
