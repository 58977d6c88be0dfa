// Canonical JSON: the one byte encoding of a value that signatures and measurements cover.
// Object members are sorted by key (UTF-16 code units, as RFC 8785 does), there is no
// whitespace, and numbers must be safe integers: for this subset the output is exactly RFC 8785
// (JCS), so any JCS implementation reproduces the bytes.

export type CanonicalValue =
  | string
  | number
  | boolean
  | null
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue };

export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    // Floats have several textual forms across implementations; integers have one.
    if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer: ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const object = value as { readonly [key: string]: CanonicalValue };
  const members = Object.keys(object)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key] as CanonicalValue)}`);
  return `{${members.join(',')}}`;
}

export const canonicalBytes = (value: CanonicalValue): Uint8Array =>
  new TextEncoder().encode(canonicalJson(value));
