// The Intel SGX extension (OID 1.2.840.113741.1.13.1) of a PCK leaf certificate: the platform's
// FMSPC, PCE ID and the TCB (16 SGX TCB component SVNs, PCESVN, CPUSVN) the PCK was issued for.
// TCB evaluation compares these, not the quote header, against TCB Info.
import { toHex } from './bytes.js';
import { DerNode, Tag } from './der.js';
import { quoteFormatError } from './errors.js';
import type { Certificate } from './x509.js';

const SGX_EXTENSION = '1.2.840.113741.1.13.1';

export interface PlatformTcb {
  /** Family-Model-Stepping-Platform-CustomSKU, 6 bytes as lower-case hex. */
  readonly fmspc: string;
  /** PCE identifier, 2 bytes as lower-case hex. */
  readonly pceId: string;
  /** SGX TCB component SVNs 1..16, in order. */
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  readonly cpuSvn: string;
}

export function readPlatformTcb(leaf: Certificate): PlatformTcb {
  const path = 'PCK leaf SGX extension';
  const value = leaf.extensions.get(SGX_EXTENSION);
  if (value === undefined) {
    throw quoteFormatError('PCK leaf certificate', `an SGX extension ${SGX_EXTENSION}`);
  }
  const entries = byOid(DerNode.parse(value, path, quoteFormatError), SGX_EXTENSION);
  const tcb = byOid(required(entries, `${SGX_EXTENSION}.2`, 'TCB'), `${SGX_EXTENSION}.2`);
  const sgxComponents = Array.from({ length: 16 }, (_, i) =>
    required(tcb, `${SGX_EXTENSION}.2.${i + 1}`, `TCB component ${i + 1}`).smallInteger(),
  );
  const fixedLength = (node: DerNode, length: number, what: string): string => {
    const octets = node.octets();
    if (octets.length !== length) throw quoteFormatError(`${path} ${what}`, `${length} bytes`);
    return toHex(octets);
  };
  return {
    fmspc: fixedLength(required(entries, `${SGX_EXTENSION}.4`, 'FMSPC'), 6, 'FMSPC'),
    pceId: fixedLength(required(entries, `${SGX_EXTENSION}.3`, 'PCE-ID'), 2, 'PCE-ID'),
    sgxComponents,
    pceSvn: required(tcb, `${SGX_EXTENSION}.2.17`, 'PCESVN').smallInteger(),
    cpuSvn: fixedLength(required(tcb, `${SGX_EXTENSION}.2.18`, 'CPUSVN'), 16, 'CPUSVN'),
  };
}

/** A SEQUENCE of SEQUENCE { OID, value } as a map from OID to value. */
function byOid(sequence: DerNode, what: string): Map<string, DerNode> {
  const out = new Map<string, DerNode>();
  for (const entry of sequence.expect(Tag.sequence, `${what} as a SEQUENCE`).children()) {
    entry.expect(Tag.sequence, 'a SEQUENCE { OID, value }');
    out.set(entry.child(0, 'an OID').oid(), entry.child(1, 'a value'));
  }
  return out;
}

function required(entries: Map<string, DerNode>, oid: string, what: string): DerNode {
  const node = entries.get(oid);
  if (node === undefined) throw quoteFormatError('PCK leaf SGX extension', `${what} (${oid})`);
  return node;
}
