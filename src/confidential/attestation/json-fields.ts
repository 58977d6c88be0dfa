// Typed, validated access to parsed JSON (collateral, policy and manifest documents). Each
// accessor names the full path of the member it reads, so a bad document is reported as
// "field: expected ...".
import { fromHex } from './bytes.js';

/** Builds the caller's own error type (AttestationError, ManifestError, ...). */
export type JsonFailure = (field: string, detail: string) => Error;

export class JsonObject {
  private constructor(
    private readonly value: Readonly<Record<string, unknown>>,
    readonly path: string,
    private readonly fail: JsonFailure,
  ) {}

  static from(value: unknown, path: string, fail: JsonFailure): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw fail(path, 'expected a JSON object');
    }
    return new JsonObject(value as Record<string, unknown>, path, fail);
  }

  private at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.value[key] !== undefined;
  }

  /** Throws on members outside `known`, so a misspelt policy option is not silently ignored. */
  onlyKeys(known: readonly string[]): void {
    const unknown = Object.keys(this.value).find((key) => !known.includes(key));
    if (unknown !== undefined) {
      throw this.fail(this.at(unknown), `unknown member (expected one of ${known.join(', ')})`);
    }
  }

  string(key: string): string {
    const value = this.value[key];
    if (typeof value !== 'string') throw this.fail(this.at(key), 'expected a string');
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const value = this.string(key);
    if (!(allowed as readonly string[]).includes(value)) {
      throw this.fail(this.at(key), `expected one of ${allowed.join(', ')}, found "${value}"`);
    }
    return value as T;
  }

  integer(key: string, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.value[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      throw this.fail(this.at(key), `expected an integer in 0..${max}`);
    }
    return value;
  }

  boolean(key: string): boolean {
    const value = this.value[key];
    if (typeof value !== 'boolean') throw this.fail(this.at(key), 'expected true or false');
    return value;
  }

  /** Hex string of exactly `bytes` bytes (either case). */
  hex(key: string, bytes: number): Uint8Array {
    const decoded = fromHex(this.string(key));
    if (decoded === undefined || decoded.length !== bytes) {
      throw this.fail(this.at(key), `expected ${2 * bytes} hex digits`);
    }
    return decoded;
  }

  /** An ISO 8601 date-time such as 2025-06-19T10:16:03Z. */
  date(key: string): Date {
    const text = this.string(key);
    const date = new Date(text);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(date.getTime())) {
      throw this.fail(this.at(key), `expected an ISO 8601 date-time, found "${text}"`);
    }
    return date;
  }

  object(key: string): JsonObject {
    return JsonObject.from(this.value[key], this.at(key), this.fail);
  }

  array(key: string): unknown[] {
    const value = this.value[key];
    if (!Array.isArray(value)) throw this.fail(this.at(key), 'expected an array');
    return value;
  }

  objects(key: string): JsonObject[] {
    return this.array(key).map((item, i) =>
      JsonObject.from(item, `${this.at(key)}[${i}]`, this.fail),
    );
  }

  strings(key: string): string[] {
    return this.array(key).map((item, i) => {
      if (typeof item !== 'string') throw this.fail(`${this.at(key)}[${i}]`, 'expected a string');
      return item;
    });
  }
}

/** JSON.parse whose syntax errors become `fail(path, ...)`. */
export function parseJson(text: string, path: string, fail: JsonFailure): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw fail(path, `not valid JSON (${(error as Error).message})`);
  }
}

/**
 * The exact source text of member `key` of the top-level object in `text` (already known to be
 * valid JSON). Intel signs the bytes of the "tcbInfo"/"enclaveIdentity" value as served, so the
 * value must be cut out of the document rather than re-serialised.
 */
export function rawMember(text: string, key: string): string | undefined {
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return undefined;
  i = skipSpace(text, i + 1);
  while (text[i] === '"') {
    const keyEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the ':'
    const valueEnd = skipValue(text, valueStart);
    if (name === key) return text.slice(valueStart, valueEnd);
    i = skipSpace(text, valueEnd);
    if (text[i] === ',') i = skipSpace(text, i + 1);
  }
  return undefined;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
  return i;
}

/** Index just past the string literal starting at `i`. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

/** Index just past the JSON value starting at `i`. */
function skipValue(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text[j] as string;
    // A number, true, false or null at the top ends at the next delimiter.
    if (depth === 0 && j > i && ',}] \t\r\n'.includes(c)) return j;
    if (c === '"') {
      j = skipString(text, j) - 1;
      if (depth === 0) return j + 1;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return text.length;
}
