// Arguments and output shared by the confidential-computing commands (attest, manifest, seal).
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  AttestationError,
  type Claims,
  type Collateral,
  DEFAULT_POLICY,
  parsePolicyText,
  type Policy,
  quoteFormatError,
  trustAnchorFrom,
} from '../confidential/attestation/index.js';
import { loadCollateral } from '../confidential/attestation/collateral-files.js';
import type { Certificate } from '../confidential/attestation/x509.js';
import { UsageError } from './usage.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type WithHelp<T extends Options> = T & { help: { type: 'boolean'; default: false } };
type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; options: WithHelp<T> }>
>;

/** parseArgs with positionals and --help; a bad option is a UsageError (exit status 2). */
export function parseCommand<T extends Options>(argv: string[], options: T): Parsed<T> {
  const withHelp: WithHelp<T> = { ...options, help: { type: 'boolean', default: false } };
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: withHelp });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function onePositional(positionals: string[], what: string): string {
  const [value, ...extra] = positionals;
  if (value === undefined || extra.length > 0) throw new UsageError(`expected one ${what}`);
  return value;
}

export function printHelp(text: string): number {
  console.log(text);
  return 0;
}

/** The options every verify command accepts. */
export const VERIFY_OPTIONS = {
  collateral: { type: 'string' },
  policy: { type: 'string' },
  at: { type: 'string' },
  root: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export interface VerifySettings {
  readonly at: Date;
  readonly policy: Policy;
  readonly trustAnchor: Certificate | undefined;
  readonly collateral: Collateral | undefined;
}

/**
 * Reads --at, --policy, --root and --collateral. A malformed policy, root or collateral is an
 * AttestationError (a rejection, exit 1); an unreadable file or bad --at is a UsageError.
 */
export function verifySettings(values: {
  at?: string | undefined;
  policy?: string | undefined;
  root?: string | undefined;
  collateral?: string | undefined;
}): VerifySettings {
  const at = values.at === undefined ? new Date() : parseTime(values.at);
  const policy =
    values.policy === undefined
      ? DEFAULT_POLICY
      : parsePolicyText(readInput(values.policy, 'policy').toString('utf8'));
  const trustAnchor =
    values.root === undefined
      ? undefined
      : trustAnchorFrom(new Uint8Array(readInput(values.root, 'root')), quoteFormatError);
  const collateral =
    values.collateral === undefined ? undefined : loadCollateral(values.collateral);
  return { at, policy, trustAnchor, collateral };
}

export function parseTime(text: string): Date {
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(at.getTime())) {
    throw new UsageError(
      `--at: expected an ISO 8601 time such as 2025-06-20T00:00:00Z, got "${text}"`,
    );
  }
  return at;
}

export function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read ${what} file ${path}: ${(error as Error).message}`);
  }
}

/** Prints a rejection (stderr, or one JSON object with --json) and returns exit status 1. */
export function reportRejection(error: unknown, json: boolean): number {
  if (!(error instanceof AttestationError)) throw error;
  if (json) {
    console.log(JSON.stringify({ verified: false, error: error.name, reason: error.reason }));
  } else {
    console.error(`rejected (${error.name}): ${error.reason}`);
  }
  return 1;
}

/** Claims as an aligned two-column table; null (not evaluated / not present) shows as '-'. */
export function claimsTable(claims: Claims): string {
  const rows = Object.entries(claims).flatMap(([key, value]): [string, string][] => {
    if (Array.isArray(value)) return [[key, value.length === 0 ? '(none)' : value.join(', ')]];
    if (value !== null && typeof value === 'object') {
      return Object.entries(value).map(([sub, v]) => [`${key}.${sub}`, String(v)]);
    }
    return [[key, value === null ? '-' : String(value)]];
  });
  const width = Math.max(...rows.map(([key]) => key.length));
  const title =
    claims.type === 'insecure' ? 'verified: INSECURE software evidence (no TEE)' : 'verified';
  return [title, ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`)].join('\n');
}
